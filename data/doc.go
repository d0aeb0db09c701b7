// Package data provides datasets and task generators. So far: the circle
// classification tasks of the seed example.
package data
