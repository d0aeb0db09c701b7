package serve

// Browser tests: the playground and the dashboard in headless Chromium,
// driven through the DevTools protocol (chromedp) against a real server.
// Without a Chromium binary (Debian package chromium; or set
// METALEARN_CHROMIUM to one) they skip with a message; .ci/run installs it.
// METALEARN_SCREENSHOTS=DIR keeps the screenshots there (docs/ holds the
// README's); otherwise they go to a temporary folder.
// METALEARN_PLAYGROUND_MODEL=FILE serves a trained Omniglot checkpoint as
// the playground's model instead of the random test model.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/metalearn/metalearn/data"
	"github.com/metalearn/metalearn/meta"
	"github.com/metalearn/metalearn/runfolder"
)

// chromium finds the browser binary.
func chromium() string {
	if p := os.Getenv("METALEARN_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and no
// network chatter (the test machines have no network; background fetches
// would hang).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Skip("browser test SKIPPED: no Chromium (apt-get install chromium, or set METALEARN_CHROMIUM=/path/to/chromium); .ci/run installs it")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	// Page errors (a CSP violation, an exception) fail the test.
	var mu sync.Mutex
	var errs []string
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range errs {
			t.Errorf("browser: %s", e)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if s := consoleProblem(ev); s != "" {
			mu.Lock()
			errs = append(errs, s)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// consoleProblem describes a page exception, console error or error log
// entry (a CSP violation is one), else "".
func consoleProblem(ev any) string {
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		return fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			return "console.error: " + strings.Join(parts, " ")
		}
	case *cdplog.EventEntryAdded:
		// A 401 is what the page gets before the token is entered.
		if e.Entry != nil && e.Entry.Level == cdplog.EntryLevelError && !strings.Contains(e.Entry.Text, "status of 401") {
			return fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	}
	return ""
}

// evalJS evaluates a JavaScript expression (awaiting a promise) into T.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitJS polls a JavaScript predicate until it holds.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[any](expr, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("message") ? document.getElementById("message").textContent : ""`))
		t.Fatalf("%s: waiting for %s: %v (page message: %q)", what, expr, err, msg)
	}
}

func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func buttons(n int64) chromedp.MouseOption {
	return func(p *input.DispatchMouseEventParams) { p.Buttons = n }
}

// screenshot saves a full-page PNG and returns its path.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s: %d bytes, not a PNG", name, len(png))
	}
	dir := os.Getenv("METALEARN_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(png))
}

// omniglotChars returns n characters of the Vinyals test split from the
// evaluation npz: their raw 105x105 drawings (ink = true) for the first
// drawers, and the 28x28 images the training loader makes of them.
func omniglotChars(t *testing.T, n, drawers int) (names []string, raw [][][]bool, small [][][]float32) {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data", "omniglot")
	npz := filepath.Join(dir, "images_evaluation.npz")
	testList := filepath.Join(dir, "splits_vinyals", "test.txt")
	if _, err := os.Stat(npz); err != nil {
		t.Skipf("browser playground test SKIPPED: Omniglot data not found at %s (../shared/data from the repository root; metalearn data get omniglot)", npz)
	}
	if _, err := os.Stat(testList); err != nil {
		t.Skipf("browser playground test SKIPPED: Vinyals split not found at %s", testList)
	}
	inTest := map[string]bool{}
	f, err := os.Open(testList)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, ok := strings.CutSuffix(strings.TrimSpace(sc.Text()), "/rot000"); ok {
			inTest[name] = true
		}
	}
	f.Close()
	ds, err := data.LoadOmniglotNPZ(npz, 28)
	if err != nil {
		t.Fatal(err)
	}
	arrs, err := data.ReadNPZ(npz)
	if err != nil {
		t.Fatal(err)
	}
	im := arrs["images"]
	if im == nil || len(im.Shape) != 4 || im.Shape[2] != 105 || im.Shape[3] != 105 || im.Shape[0] != ds.NumClasses() {
		t.Fatalf("images.npy: unexpected array %v", im)
	}
	imgs := ds.Images.F32()
	// Every fifth character of the first test alphabet with enough of
	// them: visibly different symbols.
	byAlpha := map[string][]int{}
	var order []string
	for c, name := range ds.ClassNames {
		if !inTest[name] {
			continue
		}
		a := strings.Split(name, "/")[0]
		if byAlpha[a] == nil {
			order = append(order, a)
		}
		byAlpha[a] = append(byAlpha[a], c)
	}
	var picked []int
	for _, a := range order {
		if cs := byAlpha[a]; len(cs) >= 5*n {
			for i := 0; i < n; i++ {
				picked = append(picked, cs[5*i])
			}
			break
		}
	}
	if len(picked) < n {
		t.Fatalf("found %d test characters, want %d", len(picked), n)
	}
	per := im.Shape[1]
	for _, c := range picked {
		names = append(names, ds.ClassNames[c])
		var rs [][]bool
		var ss [][]float32
		for d := 0; d < drawers; d++ {
			img := make([]bool, 105*105)
			off := (c*per + d) * 105 * 105
			for i := range img {
				img[i] = im.U8[off+i] == 0 // stored byte 0 = ink
			}
			rs = append(rs, img)
			idx := ds.ByClass[c][d]
			ss = append(ss, imgs[idx*784:(idx+1)*784])
		}
		raw = append(raw, rs)
		small = append(small, ss)
	}
	return names, raw, small
}

// drawRaw replays a 105x105 drawing on the pad as strokes: one stroke per
// horizontal run of ink pixels, with the pen 1 cell wide, through real
// mouse events (which the page receives as pointer events).
func drawRaw(ctx context.Context, img []bool) error {
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		r, err := chromedp.Evaluate[rect](`(() => { const r = document.getElementById("pad").getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`)(ctx, tg)
		if err != nil {
			return err
		}
		s := r.Width / 105
		ev := func(typ input.DispatchMouseEventType, x, y int, b int64) error {
			_, err := chromedp.MouseEvent(typ, r.Left+(float64(x)+0.5)*s, r.Top+(float64(y)+0.5)*s, chromedp.ButtonLeft, buttons(b), chromedp.ClickCount(1))(ctx, tg)
			return err
		}
		// One stroke per run of ink pixels, along rows or columns,
		// whichever needs fewer strokes.
		for _, st := range inkRuns(img) {
			if err := ev(chromedp.MousePressed, st[0], st[1], 1); err != nil {
				return err
			}
			if st[2] != st[0] || st[3] != st[1] {
				if err := ev(chromedp.MouseMoved, st[2], st[3], 1); err != nil {
					return err
				}
			}
			if err := ev(chromedp.MouseReleased, st[2], st[3], 0); err != nil {
				return err
			}
		}
		return nil
	}))
}

// inkRuns returns strokes {x0, y0, x1, y1} covering exactly the ink
// pixels of a 105x105 image: its horizontal runs or its vertical ones,
// whichever are fewer.
func inkRuns(img []bool) [][4]int {
	var rows, cols [][4]int
	for i := 0; i < 105; i++ {
		for j := 0; j < 105; j++ {
			if img[i*105+j] {
				k := j
				for k+1 < 105 && img[i*105+k+1] {
					k++
				}
				rows = append(rows, [4]int{j, i, k, i})
				j = k
			}
		}
		for j := 0; j < 105; j++ {
			if img[j*105+i] {
				k := j
				for k+1 < 105 && img[(k+1)*105+i] {
					k++
				}
				cols = append(cols, [4]int{i, j, i, k})
				j = k
			}
		}
	}
	if len(cols) < len(rows) {
		return cols
	}
	return rows
}

type rect struct{ Left, Top, Width, Height float64 }

// pageInk reads the 28x28 input the page would send.
func pageInk(t *testing.T, ctx context.Context) []float64 {
	t.Helper()
	return evalJS[[]float64](t, ctx, `MLPlayground.ink()`)
}

func sameInk(t *testing.T, what string, page []float64, want []float32) {
	t.Helper()
	if len(page) != len(want) {
		t.Fatalf("%s: page ink has %d values, want %d", what, len(page), len(want))
	}
	worst := 0.0
	for i := range page {
		worst = math.Max(worst, math.Abs(page[i]-float64(want[i])))
	}
	if worst > 1e-6 {
		t.Fatalf("%s: the page's 28x28 ink differs from the Omniglot loader's by up to %g", what, worst)
	}
}

func TestBrowserPlayground(t *testing.T) {
	const ways = 5
	if chromium() == "" {
		newBrowser(t) // skips, saying why
	}
	names, raw, small := omniglotChars(t, ways, 2)
	ctx := newBrowser(t)
	models := writeModels(t, "proto", "sine")
	if p := os.Getenv("METALEARN_PLAYGROUND_MODEL"); p != "" {
		// A trained Omniglot checkpoint in place of the random test model
		// (for the README's screenshot): the same assertions hold.
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(models, "proto"+ModelExt), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, ts := newTest(t, Config{ModelDir: models, Token: "tok-123"})

	run(t, ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), "tok-123"),
		chromedp.Click(chromedp.CSS(`#auth button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#pad")),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if stored := evalJS[string](t, ctx, `sessionStorage.getItem("metalearn-token")`); strings.Contains(loc, "tok-123") || stored != "tok-123" {
		t.Fatalf("token: URL %q, sessionStorage %q; want it stored in the session and never in the URL", loc, stored)
	}
	waitJS(t, ctx, "model list", `document.getElementById("model").value === "proto"`)
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#pen"), "1"))

	// Support set: one drawing of each of 5 test characters, replayed
	// stroke by stroke; the page must ink exactly what the loader gives.
	for c := 0; c < ways; c++ {
		if err := drawRaw(ctx, raw[c][0]); err != nil {
			t.Fatal(err)
		}
		sameInk(t, "support "+names[c], pageInk(t, ctx), small[c][0])
		run(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.add[data-class="%d"]`, c))))
	}
	if got := evalJS[string](t, ctx, `document.getElementById("support-size").textContent`); !strings.HasPrefix(got, "5 examples (1 / 1 / 1 / 1 / 1") {
		t.Fatalf("support set: %q", got)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#adapt")))
	waitJS(t, ctx, "adapt", `!!document.getElementById("adapted").dataset.id`)
	id := evalJS[string](t, ctx, `document.getElementById("adapted").dataset.id`)
	screenshot(t, ctx, "playground-support.png")

	// Queries: another drawer's version of each character, classified live.
	var queries []Input
	var pageLabels []int
	var pageProbs [][]float64
	for c := 0; c < ways; c++ {
		run(t, ctx, chromedp.Click(chromedp.CSS("#clear")))
		if err := drawRaw(ctx, raw[c][1]); err != nil {
			t.Fatal(err)
		}
		sameInk(t, "query "+names[c], pageInk(t, ctx), small[c][1])
		evalJS[bool](t, ctx, `MLPlayground.settled()`)
		label := evalJS[string](t, ctx, `document.getElementById("predicted").dataset.label`)
		probs := evalJS[[]float64](t, ctx, `Array.from(document.querySelectorAll("#bars .bar"), b => Number(b.dataset.p))`)
		var l int
		if _, err := fmt.Sscan(label, &l); err != nil || len(probs) != ways {
			t.Fatalf("query %d: page shows label %q, %d bars", c, label, len(probs))
		}
		pageLabels = append(pageLabels, l)
		pageProbs = append(pageProbs, probs)
		queries = append(queries, ArrayInput(small[c][1]))
		screenshot(t, ctx, fmt.Sprintf("playground-query%d.png", c))
	}

	// The API, given the loader's pixels, answers what the page showed:
	// with the page's adapted id, and with a fresh adaptation to the
	// loader's support images.
	var sup Support
	for c := 0; c < ways; c++ {
		sup.Inputs = append(sup.Inputs, ArrayInput(small[c][0]))
		sup.Labels = append(sup.Labels, c)
	}
	code, b := post(t, ts.URL+"/v1/adapt", "tok-123", AdaptRequest{Model: "proto", Support: sup})
	if code != 200 {
		t.Fatalf("adapt: %d %s", code, b)
	}
	fresh := decodeJSON[AdaptResponse](t, b).ID
	correct := 0
	for c, q := range queries {
		for _, useID := range []string{id, fresh} {
			code, b := post(t, ts.URL+"/v1/predict", "tok-123", PredictRequest{ID: useID, Inputs: []Input{q}})
			if code != 200 {
				t.Fatalf("predict: %d %s", code, b)
			}
			p := decodeJSON[PredictResponse](t, b)
			if p.Labels[0] != pageLabels[c] {
				t.Errorf("query %s: page shows class %d, API answers %d", names[c], pageLabels[c], p.Labels[0])
			}
			for k, v := range p.Probabilities[0] {
				if math.Abs(v-pageProbs[c][k]) > 1e-5 {
					t.Errorf("query %s: class %d probability: page %v, API %v", names[c], k, pageProbs[c][k], v)
				}
			}
		}
		if pageLabels[c] == c {
			correct++
		}
	}
	t.Logf("characters %v: %d of %d queries shown as their own character (only agreement with the API is asserted: the test model is untrained unless METALEARN_PLAYGROUND_MODEL is set)", names, correct, ways)

	// Undo takes back the last stroke; clear empties the pad.
	before := sum(pageInk(t, ctx))
	run(t, ctx, chromedp.Click(chromedp.CSS("#undo")))
	if after := sum(pageInk(t, ctx)); after >= before {
		t.Errorf("undo: ink %v -> %v, want less", before, after)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#clear")))
	if s := sum(pageInk(t, ctx)); s != 0 {
		t.Errorf("clear: ink %v left", s)
	}

	// A finger draws too (touch input arrives as pointer events): a
	// vertical line with the default pen.
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#pen"), "5"))
	pad := evalJS[rect](t, ctx, `(() => { const r = document.getElementById("pad").getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`)
	touch := func(typ input.DispatchTouchEventType, y float64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			p := input.DispatchTouchEventParams{Type: typ, TouchPoints: []*input.TouchPoint{}}
			if typ != input.DispatchTouchEventTypeTouchEnd {
				p.TouchPoints = []*input.TouchPoint{{X: pad.Left + pad.Width/2, Y: pad.Top + y*pad.Height}}
			}
			_, err := cdp.Call(ctx, tg, input.DispatchTouchEvent, p)
			return err
		})
	}
	run(t, ctx, touch(input.DispatchTouchEventTypeTouchStart, 0.2), touch(input.DispatchTouchEventTypeTouchMove, 0.5),
		touch(input.DispatchTouchEventTypeTouchMove, 0.8), touch(input.DispatchTouchEventTypeTouchEnd, 0))
	// A pen 5 cells wide drawn over 60% of the 105-cell height inks about
	// 5 x 63 cells, i.e. about 5 x 63 / 3.75^2 = 22 in 28x28 ink units.
	if s := sum(pageInk(t, ctx)); s < 15 || s > 30 {
		t.Errorf("touch stroke: ink %v, want about 22", s)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS("#clear")))

	// Import: the exported format is the /v1/adapt body; a support set
	// built here loads into the page, and exports back unchanged.
	js, _ := json.Marshal(AdaptRequest{Model: "proto", Support: sup})
	imp := filepath.Join(t.TempDir(), "support.json")
	if err := os.WriteFile(imp, js, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.SetUploadFiles(chromedp.CSS("#import"), []string{imp}))
	waitJS(t, ctx, "import", `document.getElementById("support-size").textContent.startsWith("5 examples")`)
	exported := evalJS[string](t, ctx, `JSON.stringify(MLPlayground.modes.classification.request())`)
	var back AdaptRequest
	if err := json.Unmarshal([]byte(exported), &back); err != nil || back.Model != "proto" || len(back.Support.Inputs) != ways {
		t.Fatalf("export after import: %v %.200s", err, exported)
	}
	for i, in := range back.Support.Inputs {
		var v []float64
		if err := json.Unmarshal(in, &v); err != nil {
			t.Fatal(err)
		}
		sameInk(t, fmt.Sprintf("exported example %d", i), v, small[i][0])
	}

	// Regression: the sinusoid model gets a plane; K clicked points are
	// adapted to and the curve drawn.
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#model"), "sine"))
	evalJS[bool](t, ctx, `document.getElementById("model").dispatchEvent(new Event("change"))`)
	run(t, ctx, chromedp.WaitVisible(chromedp.CSS("#plane")))
	r := evalJS[rect](t, ctx, `(() => { const r = document.getElementById("plane").getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`)
	for i, p := range [][2]float64{{0.25, 0.3}, {0.45, 0.7}, {0.7, 0.35}} {
		run(t, ctx, chromedp.MouseClickXY(r.Left+p[0]*r.Width, r.Top+p[1]*r.Height))
		waitJS(t, ctx, "sinusoid", fmt.Sprintf(`document.getElementById("plane").dataset.state === "done" && document.getElementById("plane").dataset.points === "%d"`, i+1))
	}
	screenshot(t, ctx, "playground-sinusoid.png")
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// trainSine runs a tiny sinusoid MAML training into a run folder, logging
// like `metalearn train`. gate, when set, is called after every logged
// iteration with the number logged so far.
func trainSine(t *testing.T, dir string, seed uint64, iters int, outerLR float64, gate func(step int)) {
	t.Helper()
	spec := meta.Spec{Algorithm: "maml", Dataset: "sinusoid", Hidden: 16, EvalSteps: 2, Seed: seed}
	b, err := meta.Build(spec)
	if err != nil {
		t.Error(err)
		return
	}
	cfg := fmt.Sprintf("kind: meta\nseed: %d\nmeta:\n  algorithm: maml\n  dataset: sinusoid\n  hidden: 16\n  iterations: %d\n  outer_lr: %g\n", seed, iters, outerLR)
	folder, err := runfolder.Create(dir, []byte(cfg))
	if err != nil {
		t.Error(err)
		return
	}
	defer folder.Close()
	train, err := b.Spec.Tasks("train")
	if err != nil {
		t.Error(err)
		return
	}
	tc := meta.TrainConfig{Iterations: iters, MetaBatch: 2, OuterLR: outerLR, Seed: seed, Workers: 1}
	if val, err := b.Spec.Tasks("val"); err == nil {
		tc.Val, tc.ValEvery, tc.ValSteps = data.EvalSet(val, 8, seed+1000), 10, 2
	}
	logged := 0
	tc.Log = func(p meta.Progress) {
		step := p.Iteration
		logged++
		folder.Log(step, "train", "loss", p.Loss)
		folder.Log(step, "train", "grad_norm", p.GradNorm)
		if p.Val != nil {
			folder.Log(step, "val", "loss", p.Val.Loss)
		}
		if gate != nil {
			gate(logged)
		}
	}
	res, err := meta.Train(b.Algorithm, train, tc)
	if err != nil {
		t.Error(err)
		return
	}
	if err := folder.WriteSummary(map[string]any{"iterations": iters, "outer_lr": outerLR, "iterations_done": res.Iterations, "best_iteration": res.BestIteration}); err != nil {
		t.Error(err)
	}
}

func TestBrowserDashboard(t *testing.T) {
	ctx := newBrowser(t)
	runs := t.TempDir()
	// A finished run to compare with, then a live one paused half-way
	// until the page has shown its first half.
	const half, total = 30, 60
	trainSine(t, filepath.Join(runs, "sine-maml-lr0.01"), 2, total, 0.01, nil)
	reached, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		trainSine(t, filepath.Join(runs, "sine-maml-lr0.003"), 1, total, 0.003, func(step int) {
			if step == half {
				close(reached)
				<-release
			}
		})
	}()
	select {
	case <-reached:
	case <-done:
		t.Fatal("the live run ended before half-way")
	}
	models := writeModels(t, "sine")
	_, ts := newTest(t, Config{ModelDir: models, RunsDir: runs})

	trainN := func(run string) string {
		return fmt.Sprintf(`(() => { const p = document.querySelector('svg[data-title="loss"] polyline[data-series="%s · train"]'); return p ? p.dataset.n : ""; })()`, run)
	}
	run(t, ctx,
		chromedp.Navigate(ts.URL+"/runs"),
		chromedp.WaitVisible(chromedp.CSS(`#runs li[data-run="sine-maml-lr0.003"]`)),
	)
	waitJS(t, ctx, "run list", `!!document.querySelector('input[data-run="sine-maml-lr0.01"]')`)
	run(t, ctx, chromedp.Click(chromedp.CSS(`input[data-run="sine-maml-lr0.01"]`)))
	waitJS(t, ctx, "live run, first half", trainN("sine-maml-lr0.003")+fmt.Sprintf(` === "%d"`, half))
	waitJS(t, ctx, "finished run", trainN("sine-maml-lr0.01")+fmt.Sprintf(` === "%d"`, total))
	if status := evalJS[string](t, ctx, `document.querySelector('#runs li[data-run="sine-maml-lr0.003"] .status').textContent`); status != "running" {
		t.Errorf("live run status %q, want running", status)
	}
	close(release)
	<-done
	waitJS(t, ctx, "live run, to the end", trainN("sine-maml-lr0.003")+fmt.Sprintf(` === "%d"`, total))
	waitJS(t, ctx, "summary", `!!document.querySelector('section.detail[data-run="sine-maml-lr0.003"] table.kv')`)
	charts := evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("svg.chart"), s => s.dataset.title)`)
	if strings.Join(charts, ",") != "loss,grad_norm" {
		t.Errorf("charts %v, want loss, grad_norm", charts)
	}
	if cfg := evalJS[string](t, ctx, `document.querySelector('section.detail[data-run="sine-maml-lr0.01"] pre.config').textContent`); !strings.Contains(cfg, "outer_lr: 0.01") {
		t.Errorf("config shown: %q", cfg)
	}
	screenshot(t, ctx, "dashboard.png")
}

// The playground's translation mode: the text box translates through
// /v1/translate (the page shows what the API answers), "correct this" adds
// the edited pair to the adaptation set, "adapt" returns an id and later
// translations are the adapted model's.
func TestBrowserTranslate(t *testing.T) {
	ctx := newBrowser(t)
	dir := t.TempDir()
	writeMTModel(t, dir, "tiny-mt")
	_, ts := newTest(t, Config{ModelDir: dir})
	run(t, ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#tr-source")))
	if from, to := evalJS[string](t, ctx, `document.getElementById("tr-from").value`), evalJS[string](t, ctx, `document.getElementById("tr-to").value`); from != "en" || to != "de" {
		t.Fatalf("languages chosen: %s -> %s, want en -> de (the model's first pair)", from, to)
	}
	texts := []string{"open the file", "close the window"}
	pageTranslations := func() []string {
		return evalJS[[]string](t, ctx, `Array.from(document.querySelectorAll("#tr-output .tr-text")).map((e) => e.value)`)
	}
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#tr-source"), strings.Join(texts, "\n")), chromedp.Click(chromedp.CSS("#tr-go")))
	waitJS(t, ctx, "translate", `document.getElementById("tr-output").dataset.state === "done"`)
	base := translateOK(t, ts.URL, TranslateRequest{Model: "tiny-mt", Texts: texts, From: "en", To: "de"})
	if got := pageTranslations(); fmt.Sprint(got) != fmt.Sprint(base.Translations) {
		t.Fatalf("page shows %q, the API answers %q", got, base.Translations)
	}
	// correct the first translation and adapt to it
	run(t, ctx,
		chromedp.SetValue(chromedp.CSS("#tr-output li:first-child .tr-text"), "deOpen deThe deDossier"),
		chromedp.Click(chromedp.CSS("#tr-output li:first-child .tr-correct")))
	waitJS(t, ctx, "correction", `document.getElementById("tr-pairs").dataset.count === "1"`)
	run(t, ctx, chromedp.Click(chromedp.CSS("#tr-adapt")))
	waitJS(t, ctx, "adapt", `!!document.getElementById("tr-adapted").dataset.id`)
	id := evalJS[string](t, ctx, `document.getElementById("tr-adapted").dataset.id`)
	evalJS[string](t, ctx, `document.getElementById("tr-output").dataset.state = ""`)
	run(t, ctx, chromedp.Click(chromedp.CSS("#tr-go")))
	waitJS(t, ctx, "translate (adapted)", `document.getElementById("tr-output").dataset.state === "done"`)
	adapted := translateOK(t, ts.URL, TranslateRequest{ID: id, Texts: texts, From: "en", To: "de"})
	if got := pageTranslations(); fmt.Sprint(got) != fmt.Sprint(adapted.Translations) {
		t.Errorf("after adapting, the page shows %q, the adapted id answers %q", got, adapted.Translations)
	}
	if st := evalJS[string](t, ctx, `document.getElementById("tr-status").textContent`); !strings.Contains(st, "your adapted model") {
		t.Errorf("status %q does not say the adapted model answered", st)
	}
	screenshot(t, ctx, "playground-translate.png")
}
