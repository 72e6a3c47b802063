//! `ClipModel`: one loaded model with its tokenizer and preprocessing.

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use image::DynamicImage;
use tokenizers::{Tokenizer, TruncationParams};

use crate::clip::{to_rows, Clip};
use crate::config::ClipConfig;
use crate::hub::{ModelDir, WEIGHTS_FALLBACK};
use crate::preprocess::ImageProcessorConfig;
use crate::{Error, Result};

/// Rows per forward pass; bounds activation memory for callers that hand
/// over thousands of texts (tag vocabularies) or images at once.
const MAX_TEXT_BATCH: usize = 64;
const MAX_IMAGE_BATCH: usize = 32;

pub struct ClipModel {
    id: String,
    clip: Clip,
    config: ClipConfig,
    processor: ImageProcessorConfig,
    tokenizer: Tokenizer,
    bos: u32,
    eos: u32,
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

impl ClipModel {
    pub fn load(dir: &ModelDir, device: &Device) -> Result<Self> {
        let path = &dir.path;
        let config = ClipConfig::from_json(&read(path, "config.json")?)?;
        let processor = ImageProcessorConfig::from_json(&read(path, "preprocessor_config.json")?)?;
        let side = config.vision.image_size;
        if processor.output_size() != Some((side, side)) {
            return Err(Error::config(
                "preprocessor_config.json",
                format!(
                    "produces {:?} images but the vision tower expects {side}x{side}",
                    processor.output_size()
                ),
            ));
        }

        let tok_path = path.join("tokenizer.json");
        if !tok_path.is_file() {
            return Err(Error::MissingFile {
                dir: path.clone(),
                file: "tokenizer.json".into(),
            });
        }
        let mut tokenizer =
            Tokenizer::from_file(&tok_path).map_err(|e| Error::Tokenizer(e.to_string()))?;
        // Match transformers' `truncation=True, max_length=77`: the special
        // tokens are counted, so eos survives truncation. Padding is ours.
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: config.text.max_position_embeddings,
                ..Default::default()
            }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        let special = |name: &str| {
            tokenizer.token_to_id(name).ok_or_else(|| {
                Error::Tokenizer(format!(
                    "tokenizer.json has no {name} token; not a CLIP tokenizer"
                ))
            })
        };
        let bos = special("<|startoftext|>")?;
        let eos = special("<|endoftext|>")?;

        let st = path.join("model.safetensors");
        let vb = if st.is_file() {
            // SAFETY: the file is memory-mapped read-only; like every mmap
            // loader, this assumes nobody truncates the model file while it
            // is loaded. Weights are copied to their own buffers at load.
            unsafe { VarBuilder::from_mmaped_safetensors(&[&st], DType::F32, device)? }
        } else if path.join(WEIGHTS_FALLBACK).is_file() {
            VarBuilder::from_pth(path.join(WEIGHTS_FALLBACK), DType::F32, device)?
        } else {
            return Err(Error::MissingFile {
                dir: path.clone(),
                file: "model.safetensors".into(),
            });
        };
        let clip = Clip::new(vb, &config)?;
        tracing::info!(
            model = %dir.id,
            device = ?device,
            dim = config.projection_dim,
            image_size = side,
            "loaded CLIP model"
        );
        Ok(Self {
            id: dir.id.clone(),
            clip,
            config,
            processor,
            tokenizer,
            bos,
            eos,
            device: device.clone(),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn config(&self) -> &ClipConfig {
        &self.config
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn embedding_dim(&self) -> usize {
        self.config.projection_dim
    }

    pub fn image_size(&self) -> usize {
        self.config.vision.image_size
    }

    /// Longest token sequence the text tower accepts, bos and eos included.
    pub fn max_tokens(&self) -> usize {
        self.config.text.max_position_embeddings
    }

    /// CHW f32 of side `image_size()`, exactly as `CLIPImageProcessor`.
    pub fn preprocess(&self, img: &DynamicImage) -> Vec<f32> {
        self.processor.preprocess(img).0
    }

    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let mut ids = enc.get_ids().to_vec();
        // A tokenizer.json without a post-processor would not add the
        // specials; the text tower is meaningless without them.
        if ids.first() != Some(&self.bos) {
            ids.insert(0, self.bos);
        }
        if ids.last() != Some(&self.eos) {
            ids.push(self.eos);
        }
        let max = self.max_tokens();
        if ids.len() > max {
            ids.truncate(max);
            ids[max - 1] = self.eos;
        }
        Ok(ids)
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

    /// Runs token ids through the text tower. Attention is causal, so only
    /// tokens up to each row's pooling position matter: a batch runs at the
    /// shortest length covering all rows (padded with eos), never longer
    /// unless `min_len` asks for it (parity tests use 77).
    pub fn embed_token_ids_raw(&self, ids: &[Vec<u32>], min_len: usize) -> Result<Vec<Vec<f32>>> {
        let max = self.max_tokens();
        let pools: Vec<usize> = ids
            .iter()
            .map(|row| self.clip.text.pool_index(row))
            .collect();
        for (row, &p) in ids.iter().zip(&pools) {
            if row.is_empty() || p >= max {
                return Err(Error::InvalidInput(format!(
                    "token sequence of length {} does not fit the text tower ({max} positions)",
                    row.len()
                )));
            }
        }
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
                .max(min_len.min(max));
            let mut flat = Vec::with_capacity(chunk.len() * seq);
            for &i in chunk {
                let row = &ids[i][..ids[i].len().min(seq)];
                flat.extend_from_slice(row);
                flat.extend(std::iter::repeat_n(self.eos, seq - row.len()));
            }
            let pool: Vec<usize> = chunk.iter().map(|&i| pools[i]).collect();
            let emb = self.clip.text.forward(&flat, chunk.len(), seq, &pool)?;
            for (&i, row) in chunk.iter().zip(to_rows(&emb)?) {
                out[i] = row;
            }
        }
        Ok(out)
    }

    pub fn embed_preprocessed(&self, batch: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        Ok(normalize_rows(self.embed_preprocessed_raw(batch)?))
    }

    /// Projected image features before L2 normalisation.
    pub fn embed_preprocessed_raw(&self, batch: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
        let s = self.image_size();
        let want = self.config.vision.num_channels * s * s;
        if let Some(bad) = batch.iter().find(|px| px.len() != want) {
            return Err(Error::InvalidInput(format!(
                "preprocessed image has {} values, expected {want} (3x{s}x{s})",
                bad.len()
            )));
        }
        let mut out = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(MAX_IMAGE_BATCH) {
            out.extend(to_rows(&self.clip.vision.forward(chunk)?)?);
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

/// L2-normalises each row in place; a zero row stays zero.
pub fn normalize_rows(mut rows: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
    for row in &mut rows {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        row.iter_mut().for_each(|v| *v /= norm);
    }
    rows
}
