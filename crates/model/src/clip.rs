//! The CLIP encoders, mirroring transformers' `modeling_clip`.
//!
//! candle-transformers ships a CLIP, but it hard-codes quick_gelu (LAION
//! checkpoints use exact gelu), layer-norm eps 1e-5 and argmax pooling, and
//! always runs the text tower at the padded length. This module reads all of
//! that from the config, and keeps activations as 2-D `[tokens, hidden]`
//! matrices so every projection is one large GEMM.

use candle_core::{Device, IndexOp, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};

use crate::config::{ClipConfig, TextConfig, VisionConfig};
use crate::layers::{layer_norm, linear, patchify, Encoder, Linear, TextTrunk};
use crate::weights::MappedSafetensors;
use crate::Result;

pub struct TextTower {
    trunk: TextTrunk,
    projection: Linear,
    config: TextConfig,
}

impl TextTower {
    fn new(
        vb: VarBuilder,
        proj_vb: VarBuilder,
        mapped: Option<&MappedSafetensors>,
        c: &TextConfig,
        proj_dim: usize,
    ) -> Result<Self> {
        let (vocab, positions) = (c.vocab_size, c.max_position_embeddings);
        Ok(Self {
            trunk: TextTrunk::new(&vb, mapped, vocab, positions, &c.tower)?,
            projection: linear(proj_vb, c.tower.hidden_size, proj_dim, false)?,
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
        let mask = causal_mask(seq, self.trunk.device())?;
        let pooled = self.trunk.forward(ids, batch, seq, Some(&mask), pool)?;
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

    pub fn forward(&self, batch: &[Vec<f32>]) -> Result<Tensor> {
        let device = self.patch_weight.device();
        let c = &self.config;
        let (n, d) = (c.num_patches(), c.tower.hidden_size);
        let b = batch.len();
        let patches = Tensor::from_vec(
            patchify(&self.config, batch),
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
    pub fn new(vb: VarBuilder, mapped: Option<&MappedSafetensors>, c: &ClipConfig) -> Result<Self> {
        Ok(Self {
            text: TextTower::new(
                vb.pp("text_model"),
                vb.pp("text_projection"),
                mapped,
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
