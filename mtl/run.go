package mtl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/metalearn/metalearn/runfolder"
	"github.com/metalearn/metalearn/runner"
)

// FolderRunConfig is a multi-task training run into a run folder (package
// runfolder), as `metalearn train -c` runs a kind: mtl configuration: one
// model with one weighting, resumable checkpoints, the test metrics, an
// optional single-task comparison, plots and a summary.
type FolderRunConfig struct {
	Experiment *Experiment
	Arch       string
	Hidden     int
	Weighting  string
	Steps      int
	LR         float64
	Seed       uint64
	// Baselines also trains the single-task models and reports Delta_p.
	Baselines bool

	// Folder is the run folder, created (or reopened on Resume) with
	// FolderConfig as its config.yaml; Metadata goes into the checkpoint
	// and the model, and on Resume must equal the checkpoint's.
	Folder          string
	FolderConfig    []byte
	Metadata        map[string]string
	Summary         map[string]any // extra summary.json entries
	Title           string         // plot title
	CheckpointEvery int
	Resume          bool

	Stop          <-chan struct{}
	ResumeCommand string
	Progress      *runner.Progress
}

// FolderRunResult is what RunFolder returns.
type FolderRunResult struct {
	Metrics        []float64 // test metric per task
	SingleTask     []float64 // with Baselines
	DeltaP         float64   // with Baselines
	Model          string
	Checkpoint     string
	Summary        map[string]any
	HigherIsBetter []bool
}

// RunFolder performs the run cfg describes.
func RunFolder(cfg FolderRunConfig) (*FolderRunResult, error) {
	e := cfg.Experiment
	if e == nil {
		return nil, errors.New("mtl: RunFolder: no experiment")
	}
	w, err := ByName(cfg.Weighting, cfg.Seed)
	if err != nil {
		return nil, err
	}
	model, err := e.BuildModel(cfg.Arch, e.Tasks, cfg.Hidden, rand.New(rand.NewPCG(cfg.Seed, 99)))
	if err != nil {
		return nil, err
	}
	probe := &runfolder.Folder{Dir: cfg.Folder}
	ckptPath := probe.CheckpointPath()
	var (
		folder *runfolder.Folder
		resume *TrainState
	)
	if cfg.Resume {
		st, md, err := LoadTraining(ckptPath, model)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("no checkpoint at %s (was the run started with this configuration and output folder?)", ckptPath)
			}
			return nil, err
		}
		for k, v := range cfg.Metadata {
			if md[k] != v {
				return nil, fmt.Errorf("checkpoint %s was written by a different configuration (%s differs); resume with the same settings or start a new run elsewhere", ckptPath, k)
			}
		}
		var elapsed time.Duration
		fmt.Sscan(md["elapsed_ns"], &elapsed)
		if folder, err = runfolder.Resume(cfg.Folder, cfg.FolderConfig, st.Step, elapsed); err != nil {
			return nil, err
		}
		resume = st
	} else if folder, err = runfolder.Create(cfg.Folder, cfg.FolderConfig); err != nil {
		return nil, err
	}
	defer folder.Close()
	tc := TrainConfig{Steps: cfg.Steps, LR: cfg.LR, Seed: cfg.Seed, Weighting: w, Val: e.Val, BatchSize: e.BatchSize,
		Resume: resume, CheckpointEvery: cfg.CheckpointEvery, Stop: cfg.Stop, Progress: cfg.Progress,
		CheckpointName: ckptPath, ResumeCommand: cfg.ResumeCommand}
	tc.Checkpoint = func(st *TrainState) error {
		if err := folder.Sync(); err != nil {
			return err
		}
		md := map[string]string{"step": fmt.Sprint(st.Step), "elapsed_ns": fmt.Sprint(int64(folder.Elapsed()))}
		for k, v := range cfg.Metadata {
			md[k] = v
		}
		return SaveTraining(ckptPath, model, st, md)
	}
	tc.Log = func(step int, losses []float64) {
		mean := 0.0
		for t, l := range losses {
			mean += l
			folder.Log(step+1, "train", "loss/"+e.Tasks[t].Name, l)
		}
		folder.Log(step+1, "train", "loss", mean/float64(len(losses)))
	}
	if err := Train(model, e.Tasks, e.Train, tc); err != nil {
		return nil, err
	}
	all := make([]int, len(e.Tasks))
	for i := range all {
		all[i] = i
	}
	res := &FolderRunResult{Metrics: e.Metrics(model, e.Test, all), Model: folder.ModelPath(), Checkpoint: ckptPath, HigherIsBetter: e.HigherIsBetter()}
	if err := SaveModel(folder.ModelPath(), model, cfg.Metadata); err != nil {
		return nil, err
	}
	perTask := map[string]float64{}
	for t, v := range res.Metrics {
		perTask[e.Tasks[t].Name] = v
		folder.Log(cfg.Steps, "test", "metric/"+e.Tasks[t].Name, v)
	}
	summary := map[string]any{"kind": "mtl", "test_metrics": perTask, "higher_is_better": res.HigherIsBetter, "model": res.Model, "checkpoint": ckptPath}
	if cfg.Baselines {
		stl, err := e.RunSTL(RunConfig{Arch: cfg.Arch, Hidden: cfg.Hidden, Seed: cfg.Seed, Train: TrainConfig{Steps: cfg.Steps, LR: cfg.LR, Seed: cfg.Seed}})
		if err != nil {
			return nil, err
		}
		res.SingleTask = stl
		res.DeltaP, _ = DeltaP(res.Metrics, stl, res.HigherIsBetter)
		summary["single_task_metrics"], summary["delta_p"] = stl, res.DeltaP
	}
	plotsWritten, err := folder.PlotCurves(cfg.Title)
	if err != nil {
		return nil, err
	}
	summary["plots"] = plotsWritten
	summary["wall_seconds"] = folder.Elapsed().Seconds()
	summary["peak_rss_mib"] = runfolder.PeakRSSMiB()
	for k, v := range cfg.Summary {
		summary[k] = v
	}
	if err := folder.WriteSummary(summary); err != nil {
		return nil, err
	}
	res.Summary = summary
	return res, nil
}
