//! The SigLIP encoders, mirroring transformers' `modeling_siglip` (which
//! the fixed-resolution SigLIP 2 checkpoints load as).
//!
//! Differences from CLIP that matter for exactness: the text tower is not
//! causal, has no attention mask and pools the *last* position (so every
//! text runs at the full padded length); the vision tower has no class
//! token, a patch convolution with bias, and pools with a multi-head
//! attention "probe" instead of reading a token. There is no projection
//! after the image head, and the text head is a biased linear layer.
//! candle-transformers' `siglip.rs` is not used: it interpolates position
//! embeddings by nearest neighbour and keeps the 256k-token table resident.

use candle_core::{IndexOp, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};

use crate::activation::activate;
use crate::config::{SiglipConfig, SiglipTextConfig, VisionConfig};
use crate::layers::{layer_norm, linear, patchify, Encoder, Linear, TextTrunk};
use crate::weights::MappedSafetensors;
use crate::Result;

pub struct SiglipTextTower {
    trunk: TextTrunk,
    head: Linear,
    config: SiglipTextConfig,
}

impl SiglipTextTower {
    fn new(
        vb: VarBuilder,
        mapped: Option<&MappedSafetensors>,
        c: &SiglipTextConfig,
    ) -> Result<Self> {
        let (vocab, positions) = (c.vocab_size, c.max_position_embeddings);
        Ok(Self {
            trunk: TextTrunk::new(&vb, mapped, vocab, positions, &c.tower)?,
            head: linear(vb.pp("head"), c.tower.hidden_size, c.projection_size, true)?,
            config: c.clone(),
        })
    }

    /// The sequence length every row must have.
    pub fn seq_len(&self) -> usize {
        self.config.max_position_embeddings
    }

    /// Projected (unnormalised) embeddings of `batch` rows of exactly
    /// `seq_len()` ids, pooled at the last position.
    pub fn forward(&self, ids: &[u32], batch: usize) -> Result<Tensor> {
        let seq = self.seq_len();
        let last = vec![seq - 1; batch];
        let pooled = self.trunk.forward(ids, batch, seq, None, &last)?;
        self.head.forward(&pooled)
    }
}

/// `SiglipMultiheadAttentionPoolingHead`: a learned query (the probe)
/// attends over all patch states through `nn.MultiheadAttention`, then a
/// residual MLP.
struct PoolingHead {
    probe: Tensor,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    ln: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    heads: usize,
    config: VisionConfig,
}

impl PoolingHead {
    fn new(vb: VarBuilder, c: &VisionConfig) -> Result<Self> {
        let (d, i) = (c.tower.hidden_size, c.tower.intermediate_size);
        let attn = vb.pp("attention");
        // nn.MultiheadAttention stacks q, k and v in one in_proj; PyTorch
        // scales q by 1/sqrt(head_dim) after its projection, folded in here.
        let w = attn.get((3 * d, d), "in_proj_weight")?;
        let b = attn.get(3 * d, "in_proj_bias")?;
        let scale = (c.tower.head_dim() as f64).powf(-0.5);
        let part = |k: usize, s: f64| -> Result<Linear> {
            Linear::new(
                (w.narrow(0, k * d, d)? * s)?,
                Some((b.narrow(0, k * d, d)? * s)?),
            )
        };
        let mlp = vb.pp("mlp");
        Ok(Self {
            probe: vb.get((1, 1, d), "probe")?.reshape((1, d))?,
            q: part(0, scale)?,
            k: part(1, 1.0)?,
            v: part(2, 1.0)?,
            out: linear(attn.pp("out_proj"), d, d, true)?,
            ln: layer_norm(vb.pp("layernorm"), d, c.tower.layer_norm_eps)?,
            fc1: linear(mlp.pp("fc1"), d, i, true)?,
            fc2: linear(mlp.pp("fc2"), i, d, true)?,
            heads: c.tower.num_attention_heads,
            config: c.clone(),
        })
    }

    /// `xs`: `[batch * tokens, hidden]` → `[batch, hidden]`.
    fn forward(&self, xs: &Tensor, batch: usize, tokens: usize) -> Result<Tensor> {
        let (h, d) = (self.heads, self.config.tower.hidden_size);
        let hd = d / h;
        // One probe query per image: [heads, 1, hd].
        let q = self
            .q
            .forward(&self.probe)?
            .reshape((1, h, hd))?
            .transpose(0, 1)?;
        let split = |t: Tensor| -> Result<Tensor> {
            Ok(t.reshape((batch, tokens, h, hd))?
                .permute((0, 2, 1, 3))?
                .contiguous()?)
        };
        let k = split(self.k.forward(xs)?)?;
        let v = split(self.v.forward(xs)?)?;
        let q = q
            .unsqueeze(0)?
            .broadcast_as((batch, h, 1, hd))?
            .contiguous()?;
        let probs = candle_nn::ops::softmax_last_dim(&q.matmul(&k.t()?)?)?;
        let ctx = probs.matmul(&v)?.reshape((batch, d))?;
        let attended = self.out.forward(&ctx)?;
        let mlp = self.fc2.forward(&activate(
            self.config.tower.activation,
            &self.fc1.forward(&self.ln.forward(&attended)?)?,
        )?)?;
        Ok((attended + mlp)?)
    }
}

pub struct SiglipVisionTower {
    /// Conv weight flattened to `[hidden, channels * patch * patch]`.
    patch_weight: Tensor,
    patch_bias: Tensor,
    position_embedding: Tensor,
    encoder: Encoder,
    post_ln: LayerNorm,
    head: PoolingHead,
    config: VisionConfig,
}

impl SiglipVisionTower {
    fn new(vb: VarBuilder, c: &VisionConfig) -> Result<Self> {
        let d = c.tower.hidden_size;
        let p = c.patch_size;
        let emb = vb.pp("embeddings");
        Ok(Self {
            patch_weight: emb
                .get((d, c.num_channels, p, p), "patch_embedding.weight")?
                .reshape((d, c.num_channels * p * p))?
                .t()?
                .contiguous()?,
            patch_bias: emb.get(d, "patch_embedding.bias")?,
            position_embedding: emb.get((c.num_patches(), d), "position_embedding.weight")?,
            encoder: Encoder::new(vb.pp("encoder"), &c.tower)?,
            post_ln: layer_norm(vb.pp("post_layernorm"), d, c.tower.layer_norm_eps)?,
            head: PoolingHead::new(vb.pp("head"), c)?,
            config: c.clone(),
        })
    }

    pub fn forward(&self, batch: &[Vec<f32>]) -> Result<Tensor> {
        let device = self.patch_weight.device();
        let c = &self.config;
        let (n, d, b) = (c.num_patches(), c.tower.hidden_size, batch.len());
        let patches = Tensor::from_vec(
            patchify(c, batch),
            (b * n, c.num_channels * c.patch_size * c.patch_size),
            device,
        )?;
        let xs = patches
            .matmul(&self.patch_weight)?
            .broadcast_add(&self.patch_bias)?
            .reshape((b, n, d))?
            .broadcast_add(&self.position_embedding)?
            .reshape((b * n, d))?;
        let xs = self.encoder.forward(xs, b, n, None)?;
        let xs = self.post_ln.forward(&xs)?;
        self.head.forward(&xs, b, n)
    }
}

pub struct Siglip {
    pub text: SiglipTextTower,
    pub vision: SiglipVisionTower,
    /// `exp(logit_scale)` and `logit_bias`: the model's own calibration.
    pub logit_scale: f32,
    pub logit_bias: f32,
}

impl Siglip {
    pub fn new(
        vb: VarBuilder,
        mapped: Option<&MappedSafetensors>,
        c: &SiglipConfig,
    ) -> Result<Self> {
        let scalar = |name: &str| -> Result<f32> {
            Ok(vb
                .get(1, name)?
                .i(0)?
                .to_dtype(candle_core::DType::F32)?
                .to_scalar::<f32>()?)
        };
        Ok(Self {
            text: SiglipTextTower::new(vb.pp("text_model"), mapped, &c.text)?,
            vision: SiglipVisionTower::new(vb.pp("vision_model"), &c.vision)?,
            logit_scale: scalar("logit_scale")?.exp(),
            logit_bias: scalar("logit_bias")?,
        })
    }
}
