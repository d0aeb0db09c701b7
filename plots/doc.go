// Package plots draws the figures metalearn runs write: line charts (learning
// curves, transfer-gain curves with confidence bands) and heatmaps (task
// affinity and transfer matrices). Every figure is written as both PNG and SVG
// through gonum/plot, atomically (temporary file, fsync, rename), so a reader
// never sees a half-written image.
package plots
