// Package plots draws the figures metalearn runs write: line charts (learning
// curves, transfer-gain curves with confidence bands), bar charts and
// heatmaps (task affinity, transfer and domain matrices). Every figure is
// written as both PNG and SVG through gonum/plot, atomically (temporary
// file, fsync, rename), so a reader never sees a half-written image.
//
// The figures follow a few rules so they read at a glance:
//
//   - Heatmaps carry a colour bar. Signed quantities (Heatmap.Diverging, and
//     any matrix with values of both signs) use a red-white-blue scale
//     symmetric about 0, so +0.03 is light blue and never the colour of a
//     loss; unsigned ones (accuracies) a white-to-blue scale. Each cell's
//     number is printed in black or white, whichever contrasts with the
//     cell, with as many decimals as the largest magnitude needs. Long row
//     and column labels are abbreviated (keeping them distinct) and column
//     labels are rotated when wider than a cell.
//   - Line charts put the legend to the right of the data area. Line.LogY
//     draws losses on a log axis; Line.Smooth draws every series of at
//     least SmoothMin points as a faint raw line under a centred moving
//     average. A series of one point among longer ones is a large marker;
//     a chart whose every series is a single point becomes a bar chart
//     (Bars), with the values written above the bars.
package plots
