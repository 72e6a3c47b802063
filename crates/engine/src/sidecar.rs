//! Where a photo's XMP sidecar is: `photo.jpg.xmp` (darktable, digiKam)
//! or `photo.xmp` (Lightroom). Path logic only, so the catalog (which maps
//! a changed sidecar to its photo) and the tag writer share one rule.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// How a sidecar is named next to `photo.jpg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SidecarNaming {
    /// `photo.jpg.xmp` (darktable, digiKam).
    #[default]
    Append,
    /// `photo.xmp` (Lightroom, Capture One).
    Replace,
}

impl std::str::FromStr for SidecarNaming {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "append" => Ok(SidecarNaming::Append),
            "replace" => Ok(SidecarNaming::Replace),
            other => Err(EngineError::Invalid(format!(
                "unknown sidecar naming `{other}`: use `append` (photo.jpg.xmp) or `replace` (photo.xmp)"
            ))),
        }
    }
}

impl SidecarNaming {
    pub fn as_str(self) -> &'static str {
        match self {
            SidecarNaming::Append => "append",
            SidecarNaming::Replace => "replace",
        }
    }

    pub fn sidecar_for(self, file: &Path) -> PathBuf {
        match self {
            SidecarNaming::Append => {
                let mut name = file.as_os_str().to_os_string();
                name.push(".xmp");
                PathBuf::from(name)
            }
            SidecarNaming::Replace => file.with_extension("xmp"),
        }
    }
}

/// Both sidecar names a file may have, `photo.jpg.xmp` first.
pub fn sidecar_candidates(file: &Path) -> Vec<PathBuf> {
    let mut v = vec![
        SidecarNaming::Append.sidecar_for(file),
        SidecarNaming::Replace.sidecar_for(file),
    ];
    v.dedup();
    // A name over 255 bytes cannot exist on any common file system, so a
    // photo whose own name is near that limit simply has no such sidecar.
    v.retain(|p| p != file && p.file_name().is_some_and(|n| n.len() <= 255));
    v
}
