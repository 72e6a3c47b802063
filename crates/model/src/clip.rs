//! The CLIP encoders, mirroring transformers' `modeling_clip`.
//!
//! candle-transformers ships a CLIP, but it hard-codes quick_gelu (LAION
//! checkpoints use exact gelu), layer-norm eps 1e-5 and argmax pooling, and
//! always runs the text tower at the padded length. This module reads all of
//! that from the config, and keeps activations as 2-D `[tokens, hidden]`
//! matrices so every projection is one large GEMM.

use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};

/// A dense layer holding its weight pre-transposed (`[in, out]`,
/// contiguous), so the GEMM reads the right-hand side row-major.
struct Linear {
    weight_t: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    fn new(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        Ok(Self {
            weight_t: weight.t()?.contiguous()?,
            bias,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = xs.matmul(&self.weight_t)?;
        Ok(match &self.bias {
            Some(b) => ys.broadcast_add(b)?,
            None => ys,
        })
    }
}

use crate::config::{Activation, ClipConfig, TextConfig, TowerConfig, VisionConfig};
use crate::Result;

fn linear(vb: VarBuilder, inp: usize, out: usize, bias: bool) -> Result<Linear> {
    let w = vb.get((out, inp), "weight")?;
    let b = if bias {
        Some(vb.get(out, "bias")?)
    } else {
        None
    };
    Linear::new(w, b)
}

fn layer_norm(vb: VarBuilder, dim: usize, eps: f64) -> Result<LayerNorm> {
    Ok(candle_nn::layer_norm(dim, eps, vb)?)
}

fn activate(act: Activation, xs: &Tensor) -> Result<Tensor> {
    Ok(match act {
        Activation::QuickGelu => (xs * candle_nn::ops::sigmoid(&(xs * 1.702f64)?)?)?,
        Activation::GeluErf => xs.gelu_erf()?,
        Activation::GeluTanh => xs.gelu()?,
        Activation::Relu => xs.relu()?,
    })
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

struct Encoder {
    layers: Vec<EncoderLayer>,
}

impl Encoder {
    fn new(vb: VarBuilder, c: &TowerConfig) -> Result<Self> {
        let vb = vb.pp("layers");
        let layers = (0..c.num_hidden_layers)
            .map(|i| EncoderLayer::new(vb.pp(i), c))
            .collect::<Result<_>>()?;
        Ok(Self { layers })
    }

    fn forward(
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

pub struct TextTower {
    token_embedding: Tensor,
    position_embedding: Tensor,
    encoder: Encoder,
    final_ln: LayerNorm,
    projection: Linear,
    config: TextConfig,
}

impl TextTower {
    fn new(vb: VarBuilder, proj_vb: VarBuilder, c: &TextConfig, proj_dim: usize) -> Result<Self> {
        let d = c.tower.hidden_size;
        let emb = vb.pp("embeddings");
        Ok(Self {
            token_embedding: emb.get((c.vocab_size, d), "token_embedding.weight")?,
            position_embedding: emb
                .get((c.max_position_embeddings, d), "position_embedding.weight")?,
            encoder: Encoder::new(vb.pp("encoder"), &c.tower)?,
            final_ln: layer_norm(vb.pp("final_layer_norm"), d, c.tower.layer_norm_eps)?,
            projection: linear(proj_vb, d, proj_dim, false)?,
            config: c.clone(),
        })
    }

    /// Where transformers reads the pooled state: the first `argmax(ids)`
    /// for legacy configs (eos_token_id == 2), else the first eos id.
    pub fn pool_index(&self, ids: &[u32]) -> usize {
        if self.config.eos_token_id == 2 {
            let max = ids.iter().copied().max().unwrap_or(0);
            ids.iter().position(|&t| t == max).unwrap_or(0)
        } else {
            ids.iter()
                .position(|&t| t as i64 == self.config.eos_token_id)
                .unwrap_or(ids.len().saturating_sub(1))
        }
    }

    /// Projected (unnormalised) embeddings for rows of equal length `seq`,
    /// pooled at `pool[b]`.
    pub fn forward(&self, ids: &[u32], batch: usize, seq: usize, pool: &[usize]) -> Result<Tensor> {
        let device = self.token_embedding.device();
        let d = self.config.tower.hidden_size;
        let ids_t = Tensor::from_slice(ids, batch * seq, device)?;
        let tok = self
            .token_embedding
            .index_select(&ids_t, 0)?
            .reshape((batch, seq, d))?;
        let pos = self.position_embedding.narrow(0, 0, seq)?;
        let xs = tok.broadcast_add(&pos)?.reshape((batch * seq, d))?;
        let mask = causal_mask(seq, device)?;
        let xs = self.encoder.forward(xs, batch, seq, Some(&mask))?;
        let rows: Vec<u32> = pool
            .iter()
            .enumerate()
            .map(|(b, &p)| (b * seq + p) as u32)
            .collect();
        let rows = Tensor::from_vec(rows, batch, device)?;
        // LayerNorm is row-wise, so normalising only the pooled rows is exact.
        let pooled = self.final_ln.forward(&xs.index_select(&rows, 0)?)?;
        self.projection.forward(&pooled)
    }
}

fn causal_mask(seq: usize, device: &Device) -> Result<Tensor> {
    // transformers fills with finfo(float32).min; after softmax it is the
    // same as -inf, without the NaN risk of a fully masked row.
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..seq).map(move |j| if j > i { f32::MIN } else { 0.0 }))
        .collect();
    Ok(Tensor::from_vec(mask, (seq, seq), device)?)
}

pub struct VisionTower {
    /// Conv weight flattened to `[hidden, channels * patch * patch]`: a
    /// stride-`patch` convolution is a GEMM over flattened patches.
    patch_weight: Tensor,
    class_embedding: Tensor,
    position_embedding: Tensor,
    pre_ln: LayerNorm,
    encoder: Encoder,
    post_ln: LayerNorm,
    projection: Linear,
    config: VisionConfig,
}

impl VisionTower {
    fn new(vb: VarBuilder, proj_vb: VarBuilder, c: &VisionConfig, proj_dim: usize) -> Result<Self> {
        let d = c.tower.hidden_size;
        let p = c.patch_size;
        let emb = vb.pp("embeddings");
        let patch_weight = emb
            .get((d, c.num_channels, p, p), "patch_embedding.weight")?
            .reshape((d, c.num_channels * p * p))?;
        Ok(Self {
            patch_weight,
            class_embedding: emb.get(d, "class_embedding")?,
            position_embedding: emb.get((c.num_patches() + 1, d), "position_embedding.weight")?,
            // "pre_layrnorm" is transformers' spelling.
            pre_ln: layer_norm(vb.pp("pre_layrnorm"), d, c.tower.layer_norm_eps)?,
            encoder: Encoder::new(vb.pp("encoder"), &c.tower)?,
            post_ln: layer_norm(vb.pp("post_layernorm"), d, c.tower.layer_norm_eps)?,
            projection: linear(proj_vb, d, proj_dim, false)?,
            config: c.clone(),
        })
    }

    /// Rearranges CHW images into rows of flattened patches, in the
    /// (channel, y, x) order of the conv weight.
    fn patchify(&self, batch: &[Vec<f32>]) -> Vec<f32> {
        let (c, s, p) = (
            self.config.num_channels,
            self.config.image_size,
            self.config.patch_size,
        );
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

    pub fn forward(&self, batch: &[Vec<f32>]) -> Result<Tensor> {
        let device = self.patch_weight.device();
        let c = &self.config;
        let (n, d) = (c.num_patches(), c.tower.hidden_size);
        let b = batch.len();
        let patches = Tensor::from_vec(
            self.patchify(batch),
            (b * n, c.num_channels * c.patch_size * c.patch_size),
            device,
        )?;
        let patch_embeds = patches
            .matmul(&self.patch_weight.t()?)?
            .reshape((b, n, d))?;
        let cls = self
            .class_embedding
            .reshape((1, 1, d))?
            .broadcast_as((b, 1, d))?;
        let xs = Tensor::cat(&[&cls, &patch_embeds], 1)?
            .broadcast_add(&self.position_embedding)?
            .reshape((b * (n + 1), d))?;
        let xs = self.pre_ln.forward(&xs)?;
        let xs = self.encoder.forward(xs, b, n + 1, None)?;
        let pooled = xs.reshape((b, n + 1, d))?.i((.., 0, ..))?.contiguous()?;
        let pooled = self.post_ln.forward(&pooled)?;
        self.projection.forward(&pooled)
    }
}

pub struct Clip {
    pub text: TextTower,
    pub vision: VisionTower,
}

impl Clip {
    pub fn new(vb: VarBuilder, c: &ClipConfig) -> Result<Self> {
        Ok(Self {
            text: TextTower::new(
                vb.pp("text_model"),
                vb.pp("text_projection"),
                &c.text,
                c.projection_dim,
            )?,
            vision: VisionTower::new(
                vb.pp("vision_model"),
                vb.pp("visual_projection"),
                &c.vision,
                c.projection_dim,
            )?,
        })
    }
}

pub(crate) fn to_rows(xs: &Tensor) -> Result<Vec<Vec<f32>>> {
    Ok(xs.to_dtype(DType::F32)?.to_vec2::<f32>()?)
}
