//! Choosing where the encoders run.

use std::str::FromStr;

use candle_core::Device;

/// What the user asked for; `Auto` prefers an accelerator when one works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda,
    Metal,
}

impl FromStr for DeviceChoice {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            "metal" => Ok(Self::Metal),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown device '{other}'; expected auto, cpu, cuda or metal"
            ))),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
            Self::Metal => "metal",
        })
    }
}

/// The device actually in use, and why it differs from the request if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub name: String,
    pub fallback_reason: Option<String>,
}

/// Threads the CPU kernels use (`RAYON_NUM_THREADS`, else every core).
pub fn compute_threads() -> usize {
    candle_core::utils::get_num_threads()
}

/// Cargo features this build was compiled with that matter for inference.
pub fn compiled_features() -> Vec<&'static str> {
    let mut features = Vec::new();
    if cfg!(feature = "cuda") {
        features.push("cuda");
    }
    if cfg!(feature = "metal") {
        features.push("metal");
    }
    if candle_core::utils::with_avx() {
        features.push("avx");
    }
    if candle_core::utils::with_f16c() {
        features.push("f16c");
    }
    if candle_core::utils::with_neon() {
        features.push("neon");
    }
    features
}

/// Opens the requested device, falling back to the CPU rather than failing:
/// an app that cannot embed at all is worse than a slow one.
pub fn select_device(choice: DeviceChoice) -> (Device, DeviceInfo) {
    let cpu = |reason: Option<String>| {
        if let Some(reason) = &reason {
            tracing::warn!(requested = %choice, %reason, "falling back to the CPU");
        }
        (
            Device::Cpu,
            DeviceInfo {
                name: "cpu".to_string(),
                fallback_reason: reason,
            },
        )
    };
    match choice {
        DeviceChoice::Cpu => cpu(None),
        DeviceChoice::Cuda => match try_cuda() {
            Ok(pair) => pair,
            Err(reason) => cpu(Some(reason)),
        },
        DeviceChoice::Metal => match try_metal() {
            Ok(pair) => pair,
            Err(reason) => cpu(Some(reason)),
        },
        DeviceChoice::Auto => {
            // Auto silently prefers the CPU when no accelerator was compiled in;
            // only a compiled-in accelerator that fails to start deserves a warning.
            let mut reasons = Vec::new();
            if cfg!(feature = "cuda") {
                match try_cuda() {
                    Ok(pair) => return pair,
                    Err(reason) => reasons.push(reason),
                }
            }
            if cfg!(feature = "metal") {
                match try_metal() {
                    Ok(pair) => return pair,
                    Err(reason) => reasons.push(reason),
                }
            }
            if reasons.is_empty() {
                cpu(None)
            } else {
                cpu(Some(reasons.join("; ")))
            }
        }
    }
}

fn try_cuda() -> Result<(Device, DeviceInfo), String> {
    if !cfg!(feature = "cuda") {
        return Err("this build has no CUDA support (rebuild with --features cuda)".into());
    }
    // Device::new_cuda exists even without the feature (it then returns an
    // error), so this path needs no cfg of its own.
    let device = Device::new_cuda(0).map_err(|e| format!("CUDA device 0 failed to start: {e}"))?;
    // Initialisation can succeed on a broken driver stack and fail on first
    // use; a tiny allocation surfaces that here instead of mid-embedding.
    candle_core::Tensor::zeros(4, candle_core::DType::F32, &device)
        .and_then(|t| t.sum_all()?.to_scalar::<f32>())
        .map_err(|e| format!("CUDA device 0 is not usable: {e}"))?;
    Ok((
        device,
        DeviceInfo {
            name: "cuda:0".to_string(),
            fallback_reason: None,
        },
    ))
}

fn try_metal() -> Result<(Device, DeviceInfo), String> {
    if !cfg!(feature = "metal") {
        return Err("this build has no Metal support (rebuild with --features metal)".into());
    }
    let device =
        Device::new_metal(0).map_err(|e| format!("Metal device 0 failed to start: {e}"))?;
    candle_core::Tensor::zeros(4, candle_core::DType::F32, &device)
        .and_then(|t| t.sum_all()?.to_scalar::<f32>())
        .map_err(|e| format!("Metal device 0 is not usable: {e}"))?;
    Ok((
        device,
        DeviceInfo {
            name: "metal:0".to_string(),
            fallback_reason: None,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_choices() {
        assert_eq!("auto".parse::<DeviceChoice>().unwrap(), DeviceChoice::Auto);
        assert_eq!("CPU".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!("cuda".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cuda);
        assert_eq!(
            "metal".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Metal
        );
        assert!("tpu".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn cpu_is_always_available() {
        let (device, info) = select_device(DeviceChoice::Cpu);
        assert!(device.is_cpu());
        assert_eq!(info.name, "cpu");
        assert!(info.fallback_reason.is_none());
    }

    #[test]
    fn missing_accelerator_falls_back_with_reason() {
        if !cfg!(feature = "cuda") {
            let (device, info) = select_device(DeviceChoice::Cuda);
            assert!(device.is_cpu());
            assert!(info.fallback_reason.unwrap().contains("CUDA"));
        }
        if !cfg!(feature = "metal") {
            let (device, info) = select_device(DeviceChoice::Metal);
            assert!(device.is_cpu());
            assert!(info.fallback_reason.unwrap().contains("Metal"));
        }
        if !cfg!(any(feature = "cuda", feature = "metal")) {
            let (device, info) = select_device(DeviceChoice::Auto);
            assert!(device.is_cpu());
            assert!(info.fallback_reason.is_none());
        }
    }
}
