// Package config reads run configurations: YAML files that describe a
// meta-learning, multi-task or transfer run for `metalearn train -c`.
//
// Every key is checked: an unknown key, a value of the wrong type or an
// out-of-range value is an error naming the file, the line and the key.
// Unset values take documented defaults, and Resolved prints the effective
// configuration. Command-line overrides use the same dotted key names
// ("meta.iterations=500") and the same validation.
//
// The schema, with commented examples, is in the repository's examples/
// folder.
package config
