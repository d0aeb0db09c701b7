// Package stats holds the summary statistics every results table of the
// project uses, so that "mean ± 95% CI" means one thing everywhere:
//
//   - Mean and SD (the sample standard deviation, n-1 in the denominator);
//   - MeanCI: the mean and the half-width of its Student-t confidence
//     interval, t_{(1+level)/2, n-1} * sd / sqrt(n), with the exact t
//     quantile for n (TQuantile; 2.776 for 5 seeds, 12.706 for 2, tending
//     to 1.960 as n grows), not the normal 1.96 whatever n is;
//   - BootstrapCI: a percentile bootstrap interval for any statistic, for
//     when the t interval's normality assumption is doubtful (accuracies
//     near 0 or 1, few heavy-tailed values).
//
// It sits below every package that reports results (mtl, meta, transfer,
// the CLI) and imports only gonum's distributions.
package stats
