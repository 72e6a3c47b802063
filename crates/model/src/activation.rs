//! The sigmoid-form activations on the CPU in one threaded pass.
//!
//! candle computes tanh-GELU element by element on one thread (75 ms for a
//! batch of 32 SigLIP B/32 images per layer, as long as the fc1 GEMM), and
//! quick_gelu as three tensor passes. Both are `x · sigmoid(k · u(x))`:
//! quick_gelu with `u = x`, `k = 1.702`; tanh-GELU, since
//! `0.5 · (1 + tanh(v)) = sigmoid(2v)`, with `u = √(2/π) · (x + 0.044715 x³)`
//! and `k = 2`. One `exp` per element instead of a `tanh`, split across the
//! compute threads. The results differ from PyTorch's by f32 rounding only
//! (the parity tests bound it).

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use crate::config::Activation;
use crate::Result;

#[derive(Clone, Copy)]
struct SigmoidGate {
    tanh_form: bool,
}

impl SigmoidGate {
    #[inline]
    fn apply(self, x: f32) -> f32 {
        let z = if self.tanh_form {
            const SQRT_2_OVER_PI: f32 = 0.797_884_6;
            2.0 * SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x)
        } else {
            1.702 * x
        };
        x / (1.0 + (-z).exp())
    }
}

impl CustomOp1 for SigmoidGate {
    fn name(&self) -> &'static str {
        if self.tanh_form {
            "gelu-tanh-threaded"
        } else {
            "quick-gelu-threaded"
        }
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("{}: needs a contiguous f32 tensor", self.name());
        };
        let input = &data[start..end];
        let mut out = vec![0f32; input.len()];
        let threads = crate::device::compute_threads().max(1);
        let per = input.len().div_ceil(threads).max(4096);
        std::thread::scope(|scope| {
            for (src, dst) in input.chunks(per).zip(out.chunks_mut(per)) {
                let op = *self;
                scope.spawn(move || {
                    for (d, &x) in dst.iter_mut().zip(src) {
                        *d = op.apply(x);
                    }
                });
            }
        });
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

/// The activation a tower's config names.
pub(crate) fn activate(act: Activation, xs: &Tensor) -> Result<Tensor> {
    let cpu_f32 = xs.device().is_cpu() && xs.dtype() == candle_core::DType::F32;
    Ok(match act {
        Activation::QuickGelu | Activation::GeluTanh if cpu_f32 => {
            xs.contiguous()?.apply_op1_no_bwd(&SigmoidGate {
                tanh_form: act == Activation::GeluTanh,
            })?
        }
        Activation::QuickGelu => (xs * candle_nn::ops::sigmoid(&(xs * 1.702f64)?)?)?,
        Activation::GeluErf => xs.gelu_erf()?,
        Activation::GeluTanh => xs.gelu()?,
        Activation::Relu => xs.relu()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_the_textbook_forms() {
        let v: Vec<f32> = (-2000..2000).map(|i| i as f32 / 100.0).collect();
        let x = Tensor::new(v.as_slice(), &Device::Cpu).unwrap();
        for (act, reference) in [
            (Activation::GeluTanh, x.gelu().unwrap()),
            (
                Activation::QuickGelu,
                (&x * candle_nn::ops::sigmoid(&(&x * 1.702f64).unwrap()).unwrap()).unwrap(),
            ),
        ] {
            let got: Vec<f32> = activate(act, &x).unwrap().to_vec1().unwrap();
            let want: Vec<f32> = reference.to_vec1().unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "{act:?}: {g} vs {w}"
                );
            }
        }
    }
}
