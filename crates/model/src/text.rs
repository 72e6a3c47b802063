//! How each family turns a query into the token rows its text tower was
//! trained on.
//!
//! - CLIP: `[bos] + bpe + [eos]`, at most 77 tokens. The tower is causal and
//!   pools at eos, so a batch may stop at its longest row.
//! - SigLIP: lowercased (as SigLIP 2 was trained; transformers'
//!   `Siglip2Tokenizer` adds the same `Lowercase` normaliser), no bos, eos
//!   appended, always padded on the right to 64 with the pad id. The tower
//!   is not causal and pools the last position, so a shorter row would give
//!   a different embedding.

use std::path::Path;

use tokenizers::normalizers::{Lowercase, NormalizerWrapper, Sequence};
use tokenizers::{Tokenizer, TruncationParams};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextRule {
    /// Causal, pooled at eos; rows padded with eos only up to the batch's
    /// longest.
    Clip { bos: u32, eos: u32 },
    /// Bidirectional, pooled at the last position; rows padded to the full
    /// length.
    Siglip { eos: u32, pad: u32 },
}

pub(crate) struct TextPolicy {
    tokenizer: Tokenizer,
    pub(crate) rule: TextRule,
    /// Longest row the tower accepts, specials included.
    pub(crate) max_len: usize,
}

fn special(tokenizer: &Tokenizer, names: &[&str], family: &str) -> Result<u32> {
    names
        .iter()
        .find_map(|n| tokenizer.token_to_id(n))
        .ok_or_else(|| {
            Error::Tokenizer(format!(
                "tokenizer.json has no {} token; not a {family} tokenizer",
                names.join(" or ")
            ))
        })
}

fn load_tokenizer(dir: &Path, max_len: usize) -> Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    if !path.is_file() {
        return Err(Error::MissingFile {
            dir: dir.to_path_buf(),
            file: "tokenizer.json".into(),
        });
    }
    let mut tokenizer = Tokenizer::from_file(&path).map_err(|e| Error::Tokenizer(e.to_string()))?;
    // Match transformers' `truncation=True, max_length=N`: the special
    // tokens are counted, so eos survives truncation. Padding is ours.
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_len,
            ..Default::default()
        }))
        .map_err(|e| Error::Tokenizer(e.to_string()))?;
    tokenizer.with_padding(None);
    Ok(tokenizer)
}

impl TextPolicy {
    pub(crate) fn clip(dir: &Path, max_len: usize) -> Result<Self> {
        let tokenizer = load_tokenizer(dir, max_len)?;
        let rule = TextRule::Clip {
            bos: special(&tokenizer, &["<|startoftext|>"], "CLIP")?,
            eos: special(&tokenizer, &["<|endoftext|>"], "CLIP")?,
        };
        Ok(Self {
            tokenizer,
            rule,
            max_len,
        })
    }

    pub(crate) fn siglip(dir: &Path, max_len: usize) -> Result<Self> {
        let mut tokenizer = load_tokenizer(dir, max_len)?;
        let rule = TextRule::Siglip {
            // Gemma (SigLIP 2) names; T5 sentencepiece (SigLIP) ones second.
            eos: special(&tokenizer, &["<eos>", "</s>"], "SigLIP")?,
            pad: special(&tokenizer, &["<pad>"], "SigLIP")?,
        };
        let mut steps: Vec<NormalizerWrapper> = vec![Lowercase.into()];
        steps.extend(tokenizer.get_normalizer().cloned());
        tokenizer
            .with_normalizer(Some(NormalizerWrapper::Sequence(Sequence::new(steps))))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        Ok(Self {
            tokenizer,
            rule,
            max_len,
        })
    }

    /// The row the tower sees before padding.
    pub(crate) fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let mut ids = enc.get_ids().to_vec();
        // A tokenizer.json without a post-processor would not add the
        // specials; the text tower is meaningless without them.
        let eos = match self.rule {
            TextRule::Clip { bos, eos } => {
                if ids.first() != Some(&bos) {
                    ids.insert(0, bos);
                }
                eos
            }
            TextRule::Siglip { eos, .. } => eos,
        };
        if ids.last() != Some(&eos) {
            ids.push(eos);
        }
        if ids.len() > self.max_len {
            ids.truncate(self.max_len);
            ids[self.max_len - 1] = eos;
        }
        Ok(ids)
    }
}
