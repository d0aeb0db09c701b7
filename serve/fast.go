package serve

import (
	"math"

	"github.com/metalearn/metalearn/nn"
	"github.com/metalearn/metalearn/tensor"
)

// conv4 runs the few-shot Conv4 network (four blocks of 3x3 convolution,
// BatchNorm, ReLU and 2x2 max-pooling, then Flatten, optionally followed by
// a Linear classifier) with fused kernels: the convolutions use the tensor
// package's im2col + GEMM, and each block's bias, BatchNorm, ReLU and
// pooling run in one pass instead of a dozen elementwise ops. It computes
// forward passes without a graph, and first-order MAML steps with a
// hand-written backward pass (with batch statistics, BatchNorm, ReLU and
// pooling go through the tensor package's fused kernels and their
// backward). newModel checks it against the generic
// autodiff path on random inputs before using it.
type conv4 struct {
	bns    []*nn.BatchNorm
	linear bool
	batch  bool // BatchNorm uses batch statistics (transductive)
	own    []*tensor.Tensor
}

// newConv4 returns the fused kernels for m, or nil when m is not a float32
// Conv4 (+ Linear) network built of nn.ConvBlocks.
func newConv4(m nn.Module, transductive bool) *conv4 {
	// the network's forward steps as nn.Sequential runs them: four declared
	// pooling blocks (nn.ConvBlock, as nn.Conv4 builds them), Flatten, and
	// optionally a Linear classifier
	units := nn.Units(m)
	if len(units) != 5 && len(units) != 6 {
		return nil
	}
	c := &conv4{batch: transductive}
	for _, u := range units[:4] {
		b := u.Block
		if b == nil || b.Pool == nil {
			return nil
		}
		conv, bn := b.Conv, b.BN
		if conv.Bias == nil || conv.Stride != 1 || conv.Pad != 1 || conv.Weight.DType() != tensor.Float32 {
			return nil
		}
		if s := conv.Weight.Shape(); s[2] != 3 || s[3] != 3 {
			return nil
		}
		if bn.TrackRunningStats == transductive || bn.Training {
			return nil
		}
		c.bns = append(c.bns, bn)
	}
	if f, ok := units[4].Layer.(*nn.Func); !ok || f.Name != "Flatten" {
		return nil
	}
	if len(units) == 6 {
		l, ok := units[5].Layer.(*nn.Linear)
		if !ok || l.Bias == nil {
			return nil
		}
		c.linear = true
	}
	for _, v := range nn.Vars(m) {
		c.own = append(c.own, v.Value)
	}
	return c
}

// blockCache keeps what the backward pass of one block needs.
type blockCache struct {
	z            *tensor.Tensor // convolution output without the bias [N,C,H,W]
	mean, invstd []float32
	arg          []int32 // per pooled element: the chosen position in its plane
	out          *tensor.Tensor
	// batch statistics: the tensor package's fused kernels' state
	bmean, brstd []float64
	idx          []int32 // per pooled element: the chosen flat index in z
}

// block runs block l: conv + bias, BatchNorm, ReLU, 2x2 max-pool.
func (c *conv4) block(l int, x *tensor.Tensor, w []*tensor.Tensor, keep *blockCache) *tensor.Tensor {
	bias, gamma, beta := w[4*l+1].F32(), w[4*l+2].F32(), w[4*l+3].F32()
	z := tensor.Conv2d(x, w[4*l], 1, 1)
	n, ch, h, wd := z.Dim(0), z.Dim(1), z.Dim(2), z.Dim(3)
	plane := h * wd
	zf := z.F32()
	mean := make([]float32, ch)
	invstd := make([]float32, ch)
	bn := c.bns[l]
	rm, rv := bn.RunningMean.Value.F32(), bn.RunningVar.Value.F32()
	// The bias is never added to z: with batch statistics it cancels, and
	// with running statistics it shifts the mean (mean - bias). So
	// xhat = (z - mean) * invstd with z the bias-free convolution output.
	var bm, bv []float64
	if c.batch {
		bm, bv = tensor.BatchNormStats(z) // two passes per channel: no cancellation
		if keep != nil {
			// adaptation: BatchNorm, ReLU and pooling as the tensor
			// package's fused kernel, whose backward blockBackward uses
			rstd := tensor.InvStd(bv, bn.Eps)
			out, idx := tensor.BatchNormReLUMaxPool2(z, bm, rstd, w[4*l+2], w[4*l+3])
			*keep = blockCache{z: z, bmean: bm, brstd: rstd, idx: idx, out: out}
			return out
		}
	}
	for k := 0; k < ch; k++ {
		mu, v := float64(rm[k])-float64(bias[k]), float64(rv[k])
		if c.batch {
			mu, v = bm[k], bv[k]
		}
		mean[k] = float32(mu)
		invstd[k] = float32(1 / math.Sqrt(v+bn.Eps))
	}
	if keep == nil {
		// inference: relu(z*scale + shift) pooled, in one pass
		scale, shift := make([]float32, ch), make([]float32, ch)
		for k := range scale {
			scale[k] = invstd[k] * gamma[k]
			shift[k] = beta[k] - mean[k]*scale[k]
		}
		out := tensor.AffineReLUMaxPool2(z, scale, shift)
		tensor.Recycle(z) // dead: the next request's convolution reuses it
		return out
	}
	oh, ow := h/2, wd/2
	out := tensor.New(tensor.Float32, n, ch, oh, ow)
	of := out.F32()
	arg := make([]int32, len(of))
	for i := 0; i < n; i++ {
		for k := 0; k < ch; k++ {
			p := zf[(i*ch+k)*plane : (i*ch+k+1)*plane]
			base := (i*ch + k) * oh * ow
			o := of[base : base+oh*ow]
			// y = relu(z*scale + shift) is monotone in z (increasing when
			// scale >= 0), so pool z first and map the winner.
			scale := invstd[k] * gamma[k]
			shift := beta[k] - mean[k]*scale
			up := scale >= 0
			for oi := 0; oi < oh; oi++ {
				r0 := p[2*oi*wd : 2*oi*wd+wd]
				r1 := p[(2*oi+1)*wd : (2*oi+1)*wd+wd]
				for oj := 0; oj < ow; oj++ {
					q := 2 * oj
					best, bi := r0[q], q
					if v := r0[q+1]; up && v > best || !up && v < best {
						best, bi = v, q+1
					}
					if v := r1[q]; up && v > best || !up && v < best {
						best, bi = v, wd+q
					}
					if v := r1[q+1]; up && v > best || !up && v < best {
						best, bi = v, wd+q+1
					}
					o[oi*ow+oj] = max(best*scale+shift, 0)
					arg[base+oi*ow+oj] = int32(2*oi*wd + bi)
				}
			}
		}
	}
	*keep = blockCache{z: z, mean: mean, invstd: invstd, arg: arg, out: out}
	return out
}

// forward returns the network's output for x (logits with the Linear head,
// embeddings [N, C] without). w nil uses the module's own weights.
func (c *conv4) forward(w []*tensor.Tensor, x *tensor.Tensor) *tensor.Tensor {
	if w == nil {
		w = c.own
	}
	for l := 0; l < 4; l++ {
		y := c.block(l, x, w, nil)
		if l > 0 {
			tensor.Recycle(x) // the previous block's output, read only by this block
		}
		x = y
	}
	f := tensor.Reshape(x, x.Dim(0), -1)
	if !c.linear {
		return f
	}
	return linearForward(f, w[16], w[17])
}

func linearForward(f, W, b *tensor.Tensor) *tensor.Tensor {
	out := tensor.New(tensor.Float32, f.Dim(0), W.Dim(0))
	tensor.Gemm(false, true, f.Dim(0), W.Dim(0), f.Dim(1), 1, f, W, 0, out)
	return tensor.Add(out, b)
}

// adapt takes first-order gradient steps of the mean cross-entropy on the
// support set: w_i <- w_i - lr(step, i) * dL/dw_i. w is replaced, never
// modified in place.
func (c *conv4) adapt(w []*tensor.Tensor, s supportSet, steps int, lr func(step, i int) *tensor.Tensor) []*tensor.Tensor {
	grads := make([]*tensor.Tensor, len(w))
	var caches [4]blockCache
	for step := 0; step < steps; step++ {
		acts := [5]*tensor.Tensor{s.x}
		for l := 0; l < 4; l++ {
			acts[l+1] = c.block(l, acts[l], w, &caches[l])
		}
		f := tensor.Reshape(acts[4], acts[4].Dim(0), -1)
		n, d := f.Dim(0), f.Dim(1)
		logits := linearForward(f, w[16], w[17])
		// dL/dlogits = (softmax - onehot) / n
		dl := tensor.Softmax(logits, 1)
		dlf := dl.F32()
		k := logits.Dim(1)
		for i, y := range s.labels {
			dlf[i*k+y] -= 1
		}
		for i := range dlf {
			dlf[i] /= float32(n)
		}
		gW := tensor.New(tensor.Float32, k, d)
		tensor.Gemm(true, false, k, d, n, 1, dl, f, 0, gW)
		gb := tensor.New(tensor.Float32, k)
		gbf := gb.F32()
		for i := 0; i < n; i++ {
			for j := 0; j < k; j++ {
				gbf[j] += dlf[i*k+j]
			}
		}
		g := tensor.New(tensor.Float32, n, d)
		tensor.Gemm(false, false, n, d, k, 1, dl, w[16], 0, g)
		grads[16], grads[17] = gW, gb
		g = tensor.Reshape(g, acts[4].Shape()...)
		for l := 3; l >= 0; l-- {
			gin := c.blockBackward(l, acts[l], w, &caches[l], g, grads[4*l:4*l+4], l > 0)
			tensor.Recycle(g) // the output gradient (a no-op for the head's Reshape view)
			g = gin
			// the block's activations are dead once its backward is done
			tensor.Recycle(caches[l].z)
			tensor.Recycle(caches[l].out) // = acts[l+1]
		}
		nw := make([]*tensor.Tensor, len(w))
		for i := range w {
			nw[i] = tensor.Sub(w[i], tensor.Mul(lr(step, i), grads[i]))
		}
		w = nw
	}
	return w
}

// blockBackward back-propagates gout (the gradient of the block's pooled
// output) through block l; it writes the gradients of the conv weight,
// conv bias, BatchNorm weight and bias into grads and returns the gradient
// of the block input (nil unless needInput).
func (c *conv4) blockBackward(l int, x *tensor.Tensor, w []*tensor.Tensor, kc *blockCache, gout *tensor.Tensor, grads []*tensor.Tensor, needInput bool) *tensor.Tensor {
	z := kc.z
	if kc.idx != nil { // batch statistics: the fused kernel's backward
		gz, gGamma, gBeta := tensor.BatchNormReLUMaxPool2Backward(gout, kc.out, kc.idx, z, kc.bmean, kc.brstd, w[4*l+2])
		return c.convBackward(l, x, w, gz, tensor.ChannelSum(gz), gGamma, gBeta, grads, needInput)
	}
	n, ch, h, wd := z.Dim(0), z.Dim(1), z.Dim(2), z.Dim(3)
	plane, pp := h*wd, (h/2)*(wd/2)
	gamma := w[4*l+2].F32()
	zf, of, gf := z.F32(), kc.out.F32(), gout.F32()
	gz := tensor.New(tensor.Float32, n, ch, h, wd)
	gzf := gz.F32()
	// through the pooling and the ReLU: only the chosen, positive positions
	for i := 0; i < n*ch; i++ {
		for j := 0; j < pp; j++ {
			o := i*pp + j
			if of[o] > 0 {
				gzf[i*plane+int(kc.arg[o])] += gf[o]
			}
		}
	}
	gGamma := tensor.New(tensor.Float32, ch)
	gBeta := tensor.New(tensor.Float32, ch)
	gBias := tensor.New(tensor.Float32, ch)
	gg, gbt, gbs := gGamma.F32(), gBeta.F32(), gBias.F32()
	m := float32(n * plane)
	for k := 0; k < ch; k++ {
		mu, is := kc.mean[k], kc.invstd[k]
		var sb, sg float64
		for i := 0; i < n; i++ {
			off := (i*ch + k) * plane
			for j := 0; j < plane; j++ {
				ga := gzf[off+j]
				sb += float64(ga)
				sg += float64(ga * (zf[off+j] - mu) * is)
			}
		}
		gbt[k], gg[k] = float32(sb), float32(sg)
		// d xhat = ga * gamma; batch statistics add the mean and variance terms
		ms, mg := float32(sb)/m, float32(sg)/m
		var sz float64
		gi := gamma[k] * is
		for i := 0; i < n; i++ {
			g := gzf[(i*ch+k)*plane : (i*ch+k+1)*plane]
			zp := zf[(i*ch+k)*plane : (i*ch+k+1)*plane]
			var part float32
			if c.batch {
				for j, ga := range g {
					v := gi * (ga - ms - (zp[j]-mu)*is*mg)
					g[j] = v
					part += v
				}
			} else {
				for j, ga := range g {
					v := ga * gi
					g[j] = v
					part += v
				}
			}
			sz += float64(part)
		}
		gbs[k] = float32(sz)
	}
	return c.convBackward(l, x, w, gz, gBias, gGamma, gBeta, grads, needInput)
}

// convBackward finishes block l's backward from gz, the gradient of the
// convolution's output: the convolution's weight gradient and, with
// needInput, the block input's gradient; the bias and BatchNorm gradients
// are given.
func (c *conv4) convBackward(l int, x *tensor.Tensor, w []*tensor.Tensor, gz, gBias, gGamma, gBeta *tensor.Tensor, grads []*tensor.Tensor, needInput bool) *tensor.Tensor {
	grads[0] = tensor.Conv2dWeightGrad(x, gz, w[4*l].Shape(), 1, 1)
	grads[1], grads[2], grads[3] = gBias, gGamma, gBeta
	var gx *tensor.Tensor
	if needInput {
		gx = tensor.Conv2dInputGrad(gz, w[4*l], x.Shape(), 1, 1)
	}
	tensor.Recycle(gz) // buffers a later step or request reuses
	return gx
}
