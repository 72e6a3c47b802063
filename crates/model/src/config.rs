//! `config.json` of a transformers `CLIPModel` or `SiglipModel`, read
//! rather than assumed: the OpenAI and LAION checkpoints differ in
//! activation (quick_gelu vs exact gelu), sizes differ across B/32, B/16
//! and L/14, and SigLIP's defaults differ from CLIP's.

use serde::Deserialize;
use serde_json::Value;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    QuickGelu,
    /// `nn.GELU()` / transformers "gelu": the exact erf form.
    GeluErf,
    /// "gelu_new", "gelu_pytorch_tanh", "gelu_fast": tanh approximations.
    GeluTanh,
    Relu,
}

impl Activation {
    fn parse(name: &str) -> Result<Self> {
        match name {
            "quick_gelu" => Ok(Self::QuickGelu),
            "gelu" => Ok(Self::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Self::GeluTanh),
            "relu" => Ok(Self::Relu),
            other => Err(Error::config(
                "config.json",
                format!("unsupported hidden_act '{other}'"),
            )),
        }
    }
}

/// Defaults are transformers' `CLIPTextConfig` defaults, which apply when a
/// key is absent.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct RawText {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    max_position_embeddings: usize,
    hidden_act: String,
    layer_norm_eps: f64,
    eos_token_id: i64,
}

impl Default for RawText {
    fn default() -> Self {
        Self {
            vocab_size: 49408,
            hidden_size: 512,
            intermediate_size: 2048,
            num_hidden_layers: 12,
            num_attention_heads: 8,
            max_position_embeddings: 77,
            hidden_act: "quick_gelu".into(),
            layer_norm_eps: 1e-5,
            eos_token_id: 49407,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct RawVision {
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_channels: usize,
    image_size: usize,
    patch_size: usize,
    hidden_act: String,
    layer_norm_eps: f64,
}

impl Default for RawVision {
    fn default() -> Self {
        Self {
            hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            num_channels: 3,
            image_size: 224,
            patch_size: 32,
            hidden_act: "quick_gelu".into(),
            layer_norm_eps: 1e-5,
        }
    }
}

/// One transformer tower's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct TowerConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub activation: Activation,
    pub layer_norm_eps: f64,
}

impl TowerConfig {
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextConfig {
    pub tower: TowerConfig,
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    /// transformers pools at `argmax(input_ids)` when this is the legacy value
    /// 2 (old OpenAI configs), else at the first occurrence of this id.
    pub eos_token_id: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisionConfig {
    pub tower: TowerConfig,
    pub num_channels: usize,
    pub image_size: usize,
    pub patch_size: usize,
}

impl VisionConfig {
    pub fn num_patches(&self) -> usize {
        (self.image_size / self.patch_size).pow(2)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClipConfig {
    pub text: TextConfig,
    pub vision: VisionConfig,
    pub projection_dim: usize,
}

/// Old configs carry both `text_config` and `text_config_dict`, sometimes
/// with nulls; nulls mean "default", as they do in transformers.
fn sub_config(root: &Value, key: &str) -> Value {
    let pick = |k: &str| root.get(k).filter(|v| v.is_object()).cloned();
    let mut obj = pick(key)
        .or_else(|| pick(&format!("{key}_dict")))
        .unwrap_or_else(|| Value::Object(Default::default()));
    if let Value::Object(map) = &mut obj {
        map.retain(|_, v| !v.is_null());
    }
    obj
}

fn tower(
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    act: &str,
    eps: f64,
    which: &str,
) -> Result<TowerConfig> {
    if hidden_size.checked_rem(num_attention_heads) != Some(0) {
        return Err(Error::config(
            "config.json",
            format!("{which}: hidden_size {hidden_size} is not divisible by {num_attention_heads} heads"),
        ));
    }
    Ok(TowerConfig {
        hidden_size,
        intermediate_size,
        num_hidden_layers,
        num_attention_heads,
        activation: Activation::parse(act)?,
        layer_norm_eps: eps,
    })
}

impl ClipConfig {
    pub fn from_json(json: &str) -> Result<Self> {
        let root: Value =
            serde_json::from_str(json).map_err(|e| Error::config("config.json", e))?;
        if let Some(mt) = root.get("model_type").and_then(Value::as_str) {
            if mt != "clip" {
                return Err(Error::config(
                    "config.json",
                    format!("model_type is '{mt}', expected 'clip'"),
                ));
            }
        }
        let t: RawText = serde_json::from_value(sub_config(&root, "text_config"))
            .map_err(|e| Error::config("config.json", format!("text_config: {e}")))?;
        let v: RawVision = serde_json::from_value(sub_config(&root, "vision_config"))
            .map_err(|e| Error::config("config.json", format!("vision_config: {e}")))?;
        let projection_dim = root
            .get("projection_dim")
            .and_then(Value::as_u64)
            .unwrap_or(512) as usize;
        check_patches(v.image_size, v.patch_size)?;
        Ok(ClipConfig {
            text: TextConfig {
                tower: tower(
                    t.hidden_size,
                    t.intermediate_size,
                    t.num_hidden_layers,
                    t.num_attention_heads,
                    &t.hidden_act,
                    t.layer_norm_eps,
                    "text_config",
                )?,
                vocab_size: t.vocab_size,
                max_position_embeddings: t.max_position_embeddings,
                eos_token_id: t.eos_token_id,
            },
            vision: VisionConfig {
                tower: tower(
                    v.hidden_size,
                    v.intermediate_size,
                    v.num_hidden_layers,
                    v.num_attention_heads,
                    &v.hidden_act,
                    v.layer_norm_eps,
                    "vision_config",
                )?,
                num_channels: v.num_channels,
                image_size: v.image_size,
                patch_size: v.patch_size,
            },
            projection_dim,
        })
    }
}

/// transformers' `SiglipTextConfig` defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct RawSiglipText {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    max_position_embeddings: usize,
    hidden_act: String,
    layer_norm_eps: f64,
    projection_size: Option<usize>,
}

impl Default for RawSiglipText {
    fn default() -> Self {
        Self {
            vocab_size: 32000,
            hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            max_position_embeddings: 64,
            hidden_act: "gelu_pytorch_tanh".into(),
            layer_norm_eps: 1e-6,
            projection_size: None,
        }
    }
}

/// transformers' `SiglipVisionConfig` defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
struct RawSiglipVision {
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_channels: usize,
    image_size: usize,
    patch_size: usize,
    hidden_act: String,
    layer_norm_eps: f64,
    vision_use_head: bool,
}

impl Default for RawSiglipVision {
    fn default() -> Self {
        Self {
            hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            num_channels: 3,
            image_size: 224,
            patch_size: 16,
            hidden_act: "gelu_pytorch_tanh".into(),
            layer_norm_eps: 1e-6,
            vision_use_head: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiglipTextConfig {
    pub tower: TowerConfig,
    pub vocab_size: usize,
    /// Every text runs at exactly this length (padded), as in training.
    pub max_position_embeddings: usize,
    /// Width of the text head's output, which must equal the vision width.
    pub projection_size: usize,
}

/// `config.json` of a transformers `SiglipModel` (SigLIP and the
/// fixed-resolution SigLIP 2 checkpoints).
#[derive(Debug, Clone, PartialEq)]
pub struct SiglipConfig {
    pub text: SiglipTextConfig,
    /// SigLIP has no class token: positions = patches.
    pub vision: VisionConfig,
}

impl SiglipConfig {
    pub fn from_json(json: &str) -> Result<Self> {
        let root: Value =
            serde_json::from_str(json).map_err(|e| Error::config("config.json", e))?;
        let t: RawSiglipText = serde_json::from_value(sub_config(&root, "text_config"))
            .map_err(|e| Error::config("config.json", format!("text_config: {e}")))?;
        let v: RawSiglipVision = serde_json::from_value(sub_config(&root, "vision_config"))
            .map_err(|e| Error::config("config.json", format!("vision_config: {e}")))?;
        if !v.vision_use_head {
            return Err(Error::config(
                "config.json",
                "vision_use_head is false: the model has no pooled image embedding",
            ));
        }
        check_patches(v.image_size, v.patch_size)?;
        let projection_size = t.projection_size.unwrap_or(t.hidden_size);
        if projection_size != v.hidden_size {
            return Err(Error::config(
                "config.json",
                format!(
                    "text projection_size {projection_size} differs from the vision width {}",
                    v.hidden_size
                ),
            ));
        }
        Ok(SiglipConfig {
            text: SiglipTextConfig {
                tower: tower(
                    t.hidden_size,
                    t.intermediate_size,
                    t.num_hidden_layers,
                    t.num_attention_heads,
                    &t.hidden_act,
                    t.layer_norm_eps,
                    "text_config",
                )?,
                vocab_size: t.vocab_size,
                max_position_embeddings: t.max_position_embeddings,
                projection_size,
            },
            vision: VisionConfig {
                tower: tower(
                    v.hidden_size,
                    v.intermediate_size,
                    v.num_hidden_layers,
                    v.num_attention_heads,
                    &v.hidden_act,
                    v.layer_norm_eps,
                    "vision_config",
                )?,
                num_channels: v.num_channels,
                image_size: v.image_size,
                patch_size: v.patch_size,
            },
        })
    }
}

/// The architecture a `config.json` describes, by its `model_type`
/// (absent: CLIP, as in the oldest CLIP configs).
#[derive(Debug, Clone, PartialEq)]
pub enum ModelConfig {
    Clip(ClipConfig),
    Siglip(SiglipConfig),
}

impl ModelConfig {
    pub fn from_json(json: &str) -> Result<Self> {
        let root: Value =
            serde_json::from_str(json).map_err(|e| Error::config("config.json", e))?;
        match root.get("model_type").and_then(Value::as_str) {
            None | Some("clip") => Ok(Self::Clip(ClipConfig::from_json(json)?)),
            Some("siglip") => Ok(Self::Siglip(SiglipConfig::from_json(json)?)),
            Some(other) => Err(Error::config(
                "config.json",
                format!("model_type is '{other}'; Shoebox runs 'clip' and 'siglip' models"),
            )),
        }
    }
}

fn check_patches(image_size: usize, patch_size: usize) -> Result<()> {
    if image_size.checked_rem(patch_size) != Some(0) {
        return Err(Error::config(
            "config.json",
            format!("image_size {image_size} is not a multiple of patch_size {patch_size}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sizes_and_activation_from_json() {
        let json = r#"{
            "model_type": "clip", "projection_dim": 768,
            "text_config": {"hidden_size": 768, "num_attention_heads": 12, "hidden_act": "gelu",
                            "layer_norm_eps": 1e-6, "eos_token_id": 2, "intermediate_size": 3072},
            "text_config_dict": null,
            "vision_config": {"hidden_size": 1024, "num_attention_heads": 16, "num_hidden_layers": 24,
                              "patch_size": 14, "intermediate_size": 4096, "dropout": null}
        }"#;
        let c = ClipConfig::from_json(json).unwrap();
        assert_eq!(c.projection_dim, 768);
        assert_eq!(c.text.tower.activation, Activation::GeluErf);
        assert_eq!(c.text.tower.layer_norm_eps, 1e-6);
        assert_eq!(c.text.eos_token_id, 2);
        assert_eq!(c.text.max_position_embeddings, 77);
        assert_eq!(c.vision.tower.activation, Activation::QuickGelu);
        assert_eq!(c.vision.tower.num_hidden_layers, 24);
        assert_eq!(c.vision.num_patches(), 256);
    }

    #[test]
    fn falls_back_to_config_dict_and_rejects_bad_values() {
        let json = r#"{"text_config_dict": {"hidden_size": 256, "num_attention_heads": 4},
                       "vision_config": {}}"#;
        let c = ClipConfig::from_json(json).unwrap();
        assert_eq!(c.text.tower.hidden_size, 256);
        assert_eq!(c.text.tower.head_dim(), 64);
        assert!(ClipConfig::from_json(r#"{"model_type":"siglip"}"#).is_err());
        assert!(ClipConfig::from_json(r#"{"text_config":{"hidden_act":"swish"}}"#).is_err());
        assert!(ClipConfig::from_json(r#"{"vision_config":{"patch_size":30}}"#).is_err());
    }

    #[test]
    fn siglip_defaults_and_family_detection() {
        let json = r#"{"model_type": "siglip", "text_config": {"vocab_size": 256000},
                       "vision_config": {"image_size": 256, "patch_size": 32}}"#;
        let ModelConfig::Siglip(c) = ModelConfig::from_json(json).unwrap() else {
            panic!("not detected as SigLIP");
        };
        assert_eq!(c.text.max_position_embeddings, 64);
        assert_eq!(c.text.projection_size, 768);
        assert_eq!(c.text.tower.activation, Activation::GeluTanh);
        assert_eq!(c.vision.tower.layer_norm_eps, 1e-6);
        assert_eq!(c.vision.num_patches(), 64);
        assert!(matches!(
            ModelConfig::from_json(r#"{"vision_config": {}}"#).unwrap(),
            ModelConfig::Clip(_)
        ));
        assert!(ModelConfig::from_json(r#"{"model_type": "siglip2"}"#).is_err());
        let bad = r#"{"model_type": "siglip", "text_config": {"projection_size": 512}}"#;
        assert!(ModelConfig::from_json(bad).is_err());
    }
}
