// Package demo is `metalearn demo`: the toolkit's three ideas on built-in
// data in about a minute. Every task is one of the seed's circle problems
// (points in the unit square, label 1 outside a random circle):
//
//  1. multi-task learning: 10 circle tasks (20 labelled points each)
//     trained as single-task models (mtl.Experiment.RunSTL) and as one
//     hard-sharing model (mtl.Train);
//  2. meta-learning: second-order MAML (meta.NewMAML, meta.Train) over the
//     circle family, adapted to unseen circles from K labelled points;
//  3. transfer: the multi-task trunk with a new head fine-tuned on K
//     points of an unseen circle;
//
// each compared with training from scratch on the same K points, on unseen
// circles, as mean query accuracy with a 95% Student-t interval
// (meta.Summarise). Run returns the table and writes demo.json and the
// plots; Result.Report prints the table as the command does.
package demo
