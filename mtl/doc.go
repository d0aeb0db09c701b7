// Package mtl is multi-task learning: models with parameters shared across
// tasks and parameters specific to one task. So far it holds the seed
// example (two circle tasks), in its faithful and improved recipes.
package mtl
