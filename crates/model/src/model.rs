//! `EmbeddingModel`: one loaded model of any family (CLIP, SigLIP) with its
//! tokenizer, text rule and preprocessing, behind one interface.

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use image::DynamicImage;
use serde::Serialize;

use crate::clip::{Clip, TextTower};
use crate::config::{ModelConfig, VisionConfig};
use crate::hub::{ModelDir, WEIGHTS_FALLBACK};
use crate::layers::to_rows;
use crate::preprocess::{ImageProcessorConfig, ProcessorDefaults};
use crate::registry::Family;
use crate::siglip::Siglip;
use crate::text::{TextPolicy, TextRule};
use crate::weights::MappedSafetensors;
use crate::{Error, Result};

/// Rows per forward pass; bounds activation memory for callers that hand
/// over thousands of texts (tag vocabularies) or images at once.
const MAX_TEXT_BATCH: usize = 64;
const MAX_IMAGE_BATCH: usize = 32;

/// A model's own calibration of its scores (SigLIP's sigmoid loss):
/// `sigmoid(scale · cos + bias)` is the probability that a text matches an
/// image. CLIP, trained with a softmax over a batch, has none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    /// `exp(logit_scale)`.
    pub scale: f32,
    pub bias: f32,
}

impl Calibration {
    pub fn probability(&self, cosine: f32) -> f32 {
        1.0 / (1.0 + (-(self.scale * cosine + self.bias)).exp())
    }

    /// The cosine at which the probability is `p` (0 < p < 1).
    pub fn cosine_at(&self, p: f32) -> f32 {
        ((p / (1.0 - p)).ln() - self.bias) / self.scale
    }
}

enum Towers {
    Clip(Clip),
    Siglip(Siglip),
}

/// One loaded model of any family, with its tokenizer, text rule and
/// preprocessing: what the engine embeds and searches with.
pub struct EmbeddingModel {
    id: String,
    family: Family,
    towers: Towers,
    processor: ImageProcessorConfig,
    text: TextPolicy,
    vision: VisionConfig,
    embedding_dim: usize,
    device: Device,
}

fn read(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    if !path.is_file() {
        return Err(Error::MissingFile {
            dir: dir.to_path_buf(),
            file: file.to_string(),
        });
    }
    std::fs::read_to_string(&path).map_err(|e| Error::io(path, e))
}

/// The weights as a var builder: safetensors mapped (pages released as
/// they are copied, `weights`), else the PyTorch pickle.
fn open_weights(
    path: &Path,
    device: &Device,
) -> Result<(VarBuilder<'static>, Option<MappedSafetensors>)> {
    let st = path.join("model.safetensors");
    if st.is_file() {
        // One map: the var builder's backend copies the weights out of it,
        // and the clone keeps token tables readable after loading.
        let mapped = MappedSafetensors::open(&st)?;
        Ok((mapped.clone().var_builder(device), Some(mapped)))
    } else if path.join(WEIGHTS_FALLBACK).is_file() {
        Ok((
            VarBuilder::from_pth(path.join(WEIGHTS_FALLBACK), DType::F32, device)?,
            None,
        ))
    } else {
        Err(Error::MissingFile {
            dir: path.to_path_buf(),
            file: "model.safetensors".into(),
        })
    }
}

/// The family a model directory's `config.json` describes, without loading
/// the weights.
pub fn family_of_dir(dir: &Path) -> Option<Family> {
    match ModelConfig::from_json(&read(dir, "config.json").ok()?).ok()? {
        ModelConfig::Clip(_) => Some(Family::ClipHf),
        ModelConfig::Siglip(_) => Some(Family::Siglip),
    }
}

impl EmbeddingModel {
    pub fn load(dir: &ModelDir, device: &Device) -> Result<Self> {
        let path = &dir.path;
        let config = ModelConfig::from_json(&read(path, "config.json")?)?;
        let processor_json = read(path, "preprocessor_config.json")?;
        let (vb, mapped) = open_weights(path, device)?;
        let (family, towers, processor, text, vision, embedding_dim) = match &config {
            ModelConfig::Clip(c) => (
                Family::ClipHf,
                Towers::Clip(Clip::new(vb, mapped.as_ref(), c)?),
                ImageProcessorConfig::from_json_with(&processor_json, ProcessorDefaults::CLIP)?,
                TextPolicy::clip(path, c.text.max_position_embeddings)?,
                c.vision.clone(),
                c.projection_dim,
            ),
            ModelConfig::Siglip(c) => (
                Family::Siglip,
                Towers::Siglip(Siglip::new(vb, mapped.as_ref(), c)?),
                ImageProcessorConfig::from_json_with(&processor_json, ProcessorDefaults::SIGLIP)?,
                TextPolicy::siglip(path, c.text.max_position_embeddings)?,
                c.vision.clone(),
                c.text.projection_size,
            ),
        };
        let side = vision.image_size;
        if processor.output_size() != Some((side, side)) {
            return Err(Error::config(
                "preprocessor_config.json",
                format!(
                    "produces {:?} images but the vision tower expects {side}x{side}",
                    processor.output_size()
                ),
            ));
        }
        tracing::info!(
            model = %dir.id,
            family = %family,
            device = ?device,
            dim = embedding_dim,
            image_size = side,
            "loaded model"
        );
        Ok(Self {
            id: dir.id.clone(),
            family,
            towers,
            processor,
            text,
            vision,
            embedding_dim,
            device: device.clone(),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// The model's own probability scale for text-image scores, when it
    /// was trained with one (SigLIP).
    pub fn calibration(&self) -> Option<Calibration> {
        match &self.towers {
            Towers::Siglip(s) => Some(Calibration {
                scale: s.logit_scale,
                bias: s.logit_bias,
            }),
            Towers::Clip(_) => None,
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn embedding_dim(&self) -> usize {
        self.embedding_dim
    }

    pub fn image_size(&self) -> usize {
        self.vision.image_size
    }

    /// Longest token sequence the text tower accepts, specials included.
    pub fn max_tokens(&self) -> usize {
        self.text.max_len
    }

    /// CHW f32 of side `image_size()`, exactly as the family's processor.
    pub fn preprocess(&self, img: &DynamicImage) -> Vec<f32> {
        self.processor.preprocess(img).0
    }

    /// The token row of a text, before padding (the family's rule).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        self.text.tokenize(text)
    }

    pub fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(normalize_rows(self.embed_texts_raw(texts)?))
    }

    /// Projected text features before L2 normalisation (transformers'
    /// `get_text_features`).
    pub fn embed_texts_raw(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let ids = texts
            .iter()
            .map(|t| self.tokenize(t))
            .collect::<Result<Vec<_>>>()?;
        self.embed_token_ids_raw(&ids, 0)
    }

    /// Runs token rows through the text tower. CLIP's attention is
    /// causal, so only tokens up to each row's pooling position matter: a
    /// batch runs at the shortest length covering all rows (padded with
    /// eos), never longer unless `min_len` asks for it (parity tests use
    /// 77). SigLIP rows always run padded to the full length.
    pub fn embed_token_ids_raw(&self, ids: &[Vec<u32>], min_len: usize) -> Result<Vec<Vec<f32>>> {
        let max = self.max_tokens();
        if let Some(row) = ids.iter().find(|r| r.is_empty() || r.len() > max) {
            return Err(Error::InvalidInput(format!(
                "token sequence of length {} does not fit the text tower ({max} positions)",
                row.len()
            )));
        }
        match (&self.towers, self.text.rule) {
            (Towers::Clip(clip), TextRule::Clip { eos, .. }) => {
                embed_clip_rows(&clip.text, ids, eos, min_len.min(max))
            }
            (Towers::Siglip(siglip), TextRule::Siglip { pad, .. }) => {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(MAX_TEXT_BATCH) {
                    let mut flat = Vec::with_capacity(chunk.len() * max);
                    for row in chunk {
                        flat.extend_from_slice(row);
                        flat.extend(std::iter::repeat_n(pad, max - row.len()));
                    }
                    out.extend(to_rows(&siglip.text.forward(&flat, chunk.len())?)?);
                }
                Ok(out)
            }
            _ => unreachable!("the text rule is chosen with the towers"),
        }
    }

    pub fn embed_preprocessed(&self, batch: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        Ok(normalize_rows(self.embed_preprocessed_raw(batch)?))
    }

    /// Projected image features before L2 normalisation.
    pub fn embed_preprocessed_raw(&self, batch: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        let s = self.image_size();
        let want = self.vision.num_channels * s * s;
        if let Some(bad) = batch.iter().find(|px| px.len() != want) {
            return Err(Error::InvalidInput(format!(
                "preprocessed image has {} values, expected {want} (3x{s}x{s})",
                bad.len()
            )));
        }
        let mut out = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(MAX_IMAGE_BATCH) {
            let emb = match &self.towers {
                Towers::Clip(c) => c.vision.forward(chunk)?,
                Towers::Siglip(s) => s.vision.forward(chunk)?,
            };
            out.extend(to_rows(&emb)?);
        }
        Ok(out)
    }

    pub fn embed_images(&self, imgs: &[DynamicImage]) -> Result<Vec<Vec<f32>>> {
        Ok(normalize_rows(self.embed_images_raw(imgs)?))
    }

    pub fn embed_images_raw(&self, imgs: &[DynamicImage]) -> Result<Vec<Vec<f32>>> {
        let pixels = self.preprocess_many(imgs);
        self.embed_preprocessed_raw(&pixels)
    }

    /// Preprocesses on all cores: for a 12-megapixel photo the antialiased
    /// resize costs about as much as the ViT-B/32 forward pass.
    pub fn preprocess_many(&self, imgs: &[DynamicImage]) -> Vec<Vec<f32>> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(imgs.len().max(1));
        if threads <= 1 {
            return imgs.iter().map(|i| self.preprocess(i)).collect();
        }
        let per = imgs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = imgs
                .chunks(per)
                .map(|chunk| {
                    scope
                        .spawn(move || chunk.iter().map(|i| self.preprocess(i)).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("preprocessing thread panicked"))
                .collect()
        })
    }
}

/// CLIP rows grouped by pooling position; see `embed_token_ids_raw`.
fn embed_clip_rows(
    text: &TextTower,
    ids: &[Vec<u32>],
    eos: u32,
    min_len: usize,
) -> Result<Vec<Vec<f32>>> {
    let pools: Vec<usize> = ids.iter().map(|row| text.pool_index(row)).collect();
    // Grouping similar lengths keeps padding small for large batches.
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| pools[i]);
    let mut out = vec![Vec::new(); ids.len()];
    for chunk in order.chunks(MAX_TEXT_BATCH) {
        let seq = chunk
            .iter()
            .map(|&i| pools[i] + 1)
            .max()
            .unwrap_or(1)
            .max(min_len);
        let mut flat = Vec::with_capacity(chunk.len() * seq);
        for &i in chunk {
            let row = &ids[i][..ids[i].len().min(seq)];
            flat.extend_from_slice(row);
            flat.extend(std::iter::repeat_n(eos, seq - row.len()));
        }
        let pool: Vec<usize> = chunk.iter().map(|&i| pools[i]).collect();
        let emb = text.forward(&flat, chunk.len(), seq, &pool)?;
        for (&i, row) in chunk.iter().zip(to_rows(&emb)?) {
            out[i] = row;
        }
    }
    Ok(out)
}

/// L2-normalises each row in place; a zero row stays zero.
pub fn normalize_rows(mut rows: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
    for row in &mut rows {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        row.iter_mut().for_each(|v| *v /= norm);
    }
    rows
}
