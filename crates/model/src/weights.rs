//! Weights read from a memory-mapped safetensors file without keeping two
//! copies resident, and token-embedding tables that stay on disk.
//!
//! candle's own mmap loader copies each tensor out of the map and leaves
//! the pages it read resident until the map is dropped, so loading peaks at
//! about twice the weights (CLIP B/32: 1.26 GB for 600 MB). Here each
//! tensor's pages are released (`MADV_DONTNEED`) as soon as it is copied.
//! SigLIP 2's 256k-token table (786 MB in f32) is never copied at all: a
//! query reads its few rows straight from the map.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;
use memmap2::Mmap;
use safetensors::tensor::{Dtype, TensorInfo};

use crate::{Error, Result};

/// Cheap to clone: the map is shared.
#[derive(Clone)]
pub(crate) struct MappedSafetensors {
    map: Arc<Mmap>,
    /// Byte offset of the data section (after the length and JSON header).
    data_start: usize,
    tensors: HashMap<String, TensorInfo>,
}

fn dtype_of(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::F32 => DType::F32,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F64 => DType::F64,
        _ => return None,
    })
}

impl MappedSafetensors {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the file is mapped read-only; like every mmap loader this
        // assumes nobody truncates the model file while it is loaded.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let (header, metadata) = safetensors::SafeTensors::read_metadata(&map)
            .map_err(|e| Error::config("model.safetensors", e))?;
        let tensors = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| (name, info.clone()))
            .collect();
        Ok(Self {
            map: Arc::new(map),
            data_start: 8 + header,
            tensors,
        })
    }

    /// The tensor's dtype, shape and byte range in the map.
    fn locate(&self, name: &str) -> candle_core::Result<(DType, &[usize], std::ops::Range<usize>)> {
        let info = self
            .tensors
            .get(name)
            .ok_or_else(|| candle_core::Error::CannotFindTensor { path: name.into() }.bt())?;
        let dtype = dtype_of(info.dtype).ok_or_else(|| {
            candle_core::Error::Msg(format!("{name}: unsupported dtype {:?}", info.dtype))
        })?;
        let (a, b) = info.data_offsets;
        let range = self.data_start + a..self.data_start + b;
        if range.end > self.map.len() {
            return Err(candle_core::Error::Msg(format!(
                "{name}: data past the end of the file"
            )));
        }
        Ok((dtype, &info.shape, range))
    }

    fn release(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        {
            // madvise needs a page-aligned start. 64 KiB is a multiple of
            // every page size in use (4 KiB on x86, 16 KiB on Apple
            // silicon); a partial page shared with the next tensor is simply
            // read again if needed.
            let page = 64 * 1024;
            let start = range.start.div_ceil(page) * page;
            if start < range.end {
                // SAFETY: the map is private and read-only; DONTNEED only
                // drops our copies of file pages, which the kernel re-reads
                // from the file on the next access. Nothing holds a slice of
                // this range beyond the copy that just finished.
                let _ = unsafe {
                    self.map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        start,
                        range.end - start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// A 2-D table whose rows are read from the map on demand.
    pub(crate) fn rows(&self, name: &str, rows: usize, dim: usize) -> Result<MappedRows> {
        let (dtype, shape, range) = self.locate(name)?;
        if shape != [rows, dim] {
            return Err(Error::config(
                "model.safetensors",
                format!("{name} has shape {shape:?}, expected [{rows}, {dim}]"),
            ));
        }
        Ok(MappedRows {
            map: self.map.clone(),
            offset: range.start,
            rows,
            dim,
            dtype,
        })
    }

    pub(crate) fn var_builder(self, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self), DType::F32, device.clone())
    }
}

impl SimpleBackend for MappedSafetensors {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let tensor = self.get_unchecked(name, dtype, dev)?;
        if tensor.shape() != &s {
            return Err(candle_core::Error::UnexpectedShape {
                msg: format!("shape mismatch for {name}"),
                expected: s,
                got: tensor.shape().clone(),
            }
            .bt());
        }
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let (stored, shape, range) = self.locate(name)?;
        let tensor = Tensor::from_raw_buffer(&self.map[range.clone()], stored, shape, dev)?
            .to_dtype(dtype)?;
        self.release(range);
        Ok(tensor)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

/// An embedding table left in the mapped file.
pub(crate) struct MappedRows {
    map: Arc<Mmap>,
    offset: usize,
    rows: usize,
    dim: usize,
    dtype: DType,
}

impl MappedRows {
    fn gather(&self, ids: &[u32], device: &Device) -> Result<Tensor> {
        let row_bytes = self.dim * self.dtype.size_in_bytes();
        let mut bytes = Vec::with_capacity(ids.len() * row_bytes);
        for &id in ids {
            let id = id as usize;
            if id >= self.rows {
                return Err(Error::InvalidInput(format!(
                    "token id {id} is outside the vocabulary ({} tokens)",
                    self.rows
                )));
            }
            let start = self.offset + id * row_bytes;
            bytes.extend_from_slice(&self.map[start..start + row_bytes]);
        }
        let t = Tensor::from_raw_buffer(&bytes, self.dtype, &[ids.len(), self.dim], device)?;
        Ok(t.to_dtype(DType::F32)?)
    }
}

/// A text tower's token embeddings: in memory on a GPU (or when the
/// weights are not a safetensors file), else read from the map per query.
pub(crate) enum TokenTable {
    Resident(Tensor),
    Mapped(MappedRows),
}

impl TokenTable {
    /// `vb` points at the embedding module (`...embeddings.token_embedding`).
    pub(crate) fn load(
        vb: &VarBuilder,
        mapped: Option<&MappedSafetensors>,
        rows: usize,
        dim: usize,
    ) -> Result<Self> {
        match mapped {
            Some(m) if vb.device().is_cpu() => Ok(Self::Mapped(m.rows(
                &format!("{}.weight", vb.prefix()),
                rows,
                dim,
            )?)),
            _ => Ok(Self::Resident(vb.get((rows, dim), "weight")?)),
        }
    }

    /// `[ids.len(), dim]` f32 rows.
    pub(crate) fn lookup(&self, ids: &[u32], device: &Device) -> Result<Tensor> {
        match self {
            Self::Resident(t) => {
                let rows = t.dim(0)?;
                if let Some(&bad) = ids.iter().find(|&&id| id as usize >= rows) {
                    return Err(Error::InvalidInput(format!(
                        "token id {bad} is outside the vocabulary ({rows} tokens)"
                    )));
                }
                Ok(t.index_select(&Tensor::from_slice(ids, ids.len(), device)?, 0)?)
            }
            Self::Mapped(m) => m.gather(ids, device),
        }
    }
}
