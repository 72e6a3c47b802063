//! The transformer blocks CLIP and SigLIP share (transformers' pre-norm
//! encoder layer: layer_norm1, self-attention, layer_norm2, MLP), kept as
//! 2-D `[tokens, hidden]` matrices so every projection is one large GEMM.

use candle_core::{DType, IndexOp, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};

use crate::activation::activate;
use crate::config::{Activation, TowerConfig, VisionConfig};
use crate::weights::{MappedSafetensors, TokenTable};
use crate::Result;

/// A dense layer holding its weight pre-transposed (`[in, out]`,
/// contiguous), so the GEMM reads the right-hand side row-major.
pub(crate) struct Linear {
    pub(crate) weight_t: Tensor,
    pub(crate) bias: Option<Tensor>,
}

impl Linear {
    pub(crate) fn new(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        Ok(Self {
            weight_t: weight.t()?.contiguous()?,
            bias,
        })
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = xs.matmul(&self.weight_t)?;
        Ok(match &self.bias {
            Some(b) => ys.broadcast_add(b)?,
            None => ys,
        })
    }
}

pub(crate) fn linear(vb: VarBuilder, inp: usize, out: usize, bias: bool) -> Result<Linear> {
    let w = vb.get((out, inp), "weight")?;
    let b = if bias {
        Some(vb.get(out, "bias")?)
    } else {
        None
    };
    Linear::new(w, b)
}

pub(crate) fn layer_norm(vb: VarBuilder, dim: usize, eps: f64) -> Result<LayerNorm> {
    Ok(candle_nn::layer_norm(dim, eps, vb)?)
}

struct Attention {
    /// q, k and v stacked into one projection, with the 1/sqrt(head_dim)
    /// query scaling folded into the q rows.
    qkv: Linear,
    out: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(vb: VarBuilder, c: &TowerConfig) -> Result<Self> {
        let d = c.hidden_size;
        let scale = (c.head_dim() as f64).powf(-0.5);
        let q = linear(vb.pp("q_proj"), d, d, true)?;
        let k = linear(vb.pp("k_proj"), d, d, true)?;
        let v = linear(vb.pp("v_proj"), d, d, true)?;
        let weight = Tensor::cat(&[(&q.weight_t * scale)?, k.weight_t, v.weight_t], 1)?;
        let bias = |l: Option<Tensor>| l.ok_or_else(|| candle_core::Error::Msg("no bias".into()));
        let bias = Tensor::cat(&[(bias(q.bias)? * scale)?, bias(k.bias)?, bias(v.bias)?], 0)?;
        Ok(Self {
            qkv: Linear {
                weight_t: weight,
                bias: Some(bias),
            },
            out: linear(vb.pp("out_proj"), d, d, true)?,
            heads: c.num_attention_heads,
            head_dim: c.head_dim(),
        })
    }

    /// `xs`: `[batch * seq, hidden]`; `mask`: additive `[seq, seq]`.
    fn forward(
        &self,
        xs: &Tensor,
        batch: usize,
        seq: usize,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let qkv = self
            .qkv
            .forward(xs)?
            .reshape((batch, seq, 3, self.heads, self.head_dim))?
            .permute((2, 0, 3, 1, 4))?;
        let q = qkv.i(0)?.contiguous()?;
        let k = qkv.i(1)?.contiguous()?;
        let v = qkv.i(2)?.contiguous()?;
        let mut scores = q.matmul(&k.t()?)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((batch * seq, self.heads * self.head_dim))?;
        self.out.forward(&ctx)
    }
}

struct EncoderLayer {
    attn: Attention,
    ln1: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    ln2: LayerNorm,
    act: Activation,
}

impl EncoderLayer {
    fn new(vb: VarBuilder, c: &TowerConfig) -> Result<Self> {
        let (d, i) = (c.hidden_size, c.intermediate_size);
        Ok(Self {
            attn: Attention::new(vb.pp("self_attn"), c)?,
            ln1: layer_norm(vb.pp("layer_norm1"), d, c.layer_norm_eps)?,
            fc1: linear(vb.pp("mlp").pp("fc1"), d, i, true)?,
            fc2: linear(vb.pp("mlp").pp("fc2"), i, d, true)?,
            ln2: layer_norm(vb.pp("layer_norm2"), d, c.layer_norm_eps)?,
            act: c.activation,
        })
    }

    fn forward(
        &self,
        xs: &Tensor,
        batch: usize,
        seq: usize,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let h = self.ln1.forward(xs)?;
        let xs = (xs + self.attn.forward(&h, batch, seq, mask)?)?;
        let h = self.ln2.forward(&xs)?;
        let h = self
            .fc2
            .forward(&activate(self.act, &self.fc1.forward(&h)?)?)?;
        Ok((xs + h)?)
    }
}

pub(crate) struct Encoder {
    layers: Vec<EncoderLayer>,
}

impl Encoder {
    pub(crate) fn new(vb: VarBuilder, c: &TowerConfig) -> Result<Self> {
        let vb = vb.pp("layers");
        let layers = (0..c.num_hidden_layers)
            .map(|i| EncoderLayer::new(vb.pp(i), c))
            .collect::<Result<_>>()?;
        Ok(Self { layers })
    }

    pub(crate) fn forward(
        &self,
        xs: Tensor,
        batch: usize,
        seq: usize,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.layers
            .iter()
            .try_fold(xs, |xs, layer| layer.forward(&xs, batch, seq, mask))
    }
}

pub(crate) fn to_rows(xs: &Tensor) -> Result<Vec<Vec<f32>>> {
    Ok(xs.to_dtype(DType::F32)?.to_vec2::<f32>()?)
}

/// Rearranges CHW images into rows of flattened patches, in the
/// (channel, y, x) order of the conv weight.
pub(crate) fn patchify(config: &VisionConfig, batch: &[Vec<f32>]) -> Vec<f32> {
    let (c, s, p) = (config.num_channels, config.image_size, config.patch_size);
    let g = s / p;
    let row = c * p * p;
    let mut out = vec![0f32; batch.len() * g * g * row];
    for (b, img) in batch.iter().enumerate() {
        for gy in 0..g {
            for gx in 0..g {
                let base = ((b * g + gy) * g + gx) * row;
                for ch in 0..c {
                    for y in 0..p {
                        let src = ch * s * s + (gy * p + y) * s + gx * p;
                        let dst = base + (ch * p + y) * p;
                        out[dst..dst + p].copy_from_slice(&img[src..src + p]);
                    }
                }
            }
        }
    }
    out
}

/// A text tower up to its pooled state, the same in CLIP and SigLIP: token
/// and position embeddings, the encoder, the final layer norm. The towers
/// differ in the mask, where they pool and the head after it.
pub(crate) struct TextTrunk {
    tokens: TokenTable,
    position: Tensor,
    encoder: Encoder,
    final_ln: LayerNorm,
    hidden: usize,
}

impl TextTrunk {
    /// `vb` is the text tower's var builder (`text_model`).
    pub(crate) fn new(
        vb: &VarBuilder,
        mapped: Option<&MappedSafetensors>,
        vocab: usize,
        positions: usize,
        tower: &TowerConfig,
    ) -> Result<Self> {
        let (emb, hidden) = (vb.pp("embeddings"), tower.hidden_size);
        Ok(Self {
            tokens: TokenTable::load(&emb.pp("token_embedding"), mapped, vocab, hidden)?,
            position: emb.get((positions, hidden), "position_embedding.weight")?,
            encoder: Encoder::new(vb.pp("encoder"), tower)?,
            final_ln: layer_norm(vb.pp("final_layer_norm"), hidden, tower.layer_norm_eps)?,
            hidden,
        })
    }

    pub(crate) fn device(&self) -> &candle_core::Device {
        self.position.device()
    }

    /// `[batch, hidden]`: `batch` rows of `seq` ids through the encoder,
    /// the state at `pool[b]` of each row, layer-normed.
    pub(crate) fn forward(
        &self,
        ids: &[u32],
        batch: usize,
        seq: usize,
        mask: Option<&Tensor>,
        pool: &[usize],
    ) -> Result<Tensor> {
        let device = self.device();
        let tok = self
            .tokens
            .lookup(ids, device)?
            .reshape((batch, seq, self.hidden))?;
        let pos = self.position.narrow(0, 0, seq)?;
        let xs = tok
            .broadcast_add(&pos)?
            .reshape((batch * seq, self.hidden))?;
        let xs = self.encoder.forward(xs, batch, seq, mask)?;
        let rows: Vec<u32> = pool
            .iter()
            .enumerate()
            .map(|(b, &p)| (b * seq + p) as u32)
            .collect();
        let rows = Tensor::from_vec(rows, batch, device)?;
        // LayerNorm is row-wise, so normalising only the pooled rows is exact.
        Ok(self.final_ln.forward(&xs.index_select(&rows, 0)?)?)
    }
}
