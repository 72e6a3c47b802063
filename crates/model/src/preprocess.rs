//! Image preprocessing identical to transformers' (slow, PIL-based)
//! `CLIPImageProcessor` and `SiglipImageProcessor`: convert to RGB, resize
//! with Pillow's resampler (CLIP: the shortest edge, then a centre crop;
//! SigLIP: straight to the square), rescale, normalise, CHW f32.

use image::DynamicImage;
use serde_json::Value;

use crate::resize::{resize, Filter, U8Image};
use crate::{Error, Result};

const OPENAI_CLIP_MEAN: [f64; 3] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeTo {
    ShortestEdge(usize),
    Exact { height: usize, width: usize },
}

/// `preprocessor_config.json`, with `CLIPImageProcessor`'s defaults for
/// absent keys (old feature-extractor configs omit `do_rescale` etc.).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageProcessorConfig {
    pub resize: Option<ResizeTo>,
    pub filter: Filter,
    pub crop: Option<(usize, usize)>,
    pub rescale_factor: Option<f64>,
    pub mean_std: Option<([f32; 3], [f32; 3])>,
}

impl Default for ImageProcessorConfig {
    fn default() -> Self {
        Self::from_json("{}").expect("defaults parse")
    }
}

/// What a processor class does for keys its JSON leaves out.
#[derive(Debug, Clone, Copy)]
pub struct ProcessorDefaults {
    /// An integer `size` is the shortest edge (CLIP) or the square (SigLIP).
    int_size_is_square: bool,
    size: usize,
    resample: u64,
    center_crop: bool,
    mean: [f64; 3],
    std: [f64; 3],
}

impl ProcessorDefaults {
    /// `CLIPImageProcessor`: shortest edge 224, bicubic, centre crop 224,
    /// OpenAI's mean and std.
    pub const CLIP: Self = Self {
        int_size_is_square: false,
        size: 224,
        resample: 3,
        center_crop: true,
        mean: OPENAI_CLIP_MEAN,
        std: OPENAI_CLIP_STD,
    };
    /// `SiglipImageProcessor`: a straight resize to 224x224, bilinear, no
    /// crop, mean and std 0.5.
    pub const SIGLIP: Self = Self {
        int_size_is_square: true,
        size: 224,
        resample: 2,
        center_crop: false,
        mean: [0.5; 3],
        std: [0.5; 3],
    };
}

fn flag(root: &Value, key: &str, default: bool) -> bool {
    root.get(key).and_then(Value::as_bool).unwrap_or(default)
}

fn triple(root: &Value, key: &str, default: [f64; 3]) -> Result<[f32; 3]> {
    let v = match root.get(key) {
        None | Some(Value::Null) => default,
        Some(Value::Number(n)) => [n.as_f64().unwrap_or(0.0); 3],
        Some(Value::Array(a)) if a.len() == 3 => {
            let mut out = [0.0; 3];
            for (o, x) in out.iter_mut().zip(a) {
                *o = x.as_f64().ok_or_else(|| bad(key))?;
            }
            out
        }
        _ => return Err(bad(key)),
    };
    // numpy normalises a float32 image with mean/std cast to float32.
    Ok(v.map(|x| x as f32))
}

fn bad(key: &str) -> Error {
    Error::config(
        "preprocessor_config.json",
        format!("'{key}' has an unexpected value"),
    )
}

fn usize_of(v: &Value, key: &str) -> Result<usize> {
    v.as_u64().map(|x| x as usize).ok_or_else(|| bad(key))
}

impl ImageProcessorConfig {
    /// A CLIP processor's config.
    pub fn from_json(json: &str) -> Result<Self> {
        Self::from_json_with(json, ProcessorDefaults::CLIP)
    }

    pub fn from_json_with(json: &str, defaults: ProcessorDefaults) -> Result<Self> {
        let root: Value =
            serde_json::from_str(json).map_err(|e| Error::config("preprocessor_config.json", e))?;
        let side = |s: usize| {
            if defaults.int_size_is_square {
                ResizeTo::Exact {
                    height: s,
                    width: s,
                }
            } else {
                ResizeTo::ShortestEdge(s)
            }
        };

        let resize = if flag(&root, "do_resize", true) {
            Some(match root.get("size") {
                None | Some(Value::Null) => side(defaults.size),
                Some(v @ Value::Number(_)) => side(usize_of(v, "size")?),
                Some(Value::Object(m)) => {
                    if let Some(se) = m.get("shortest_edge") {
                        ResizeTo::ShortestEdge(usize_of(se, "size")?)
                    } else if let (Some(h), Some(w)) = (m.get("height"), m.get("width")) {
                        ResizeTo::Exact {
                            height: usize_of(h, "size")?,
                            width: usize_of(w, "size")?,
                        }
                    } else {
                        return Err(bad("size"));
                    }
                }
                _ => return Err(bad("size")),
            })
        } else {
            None
        };

        let resample = root
            .get("resample")
            .and_then(Value::as_u64)
            .unwrap_or(defaults.resample);
        let filter = Filter::from_pil(resample).ok_or_else(|| {
            Error::config(
                "preprocessor_config.json",
                format!("resample={resample} is not supported"),
            )
        })?;

        let crop = if flag(&root, "do_center_crop", defaults.center_crop) {
            Some(match root.get("crop_size") {
                None | Some(Value::Null) => (224, 224),
                Some(v @ Value::Number(_)) => {
                    let s = usize_of(v, "crop_size")?;
                    (s, s)
                }
                Some(Value::Object(m)) => match (m.get("height"), m.get("width")) {
                    (Some(h), Some(w)) => (usize_of(h, "crop_size")?, usize_of(w, "crop_size")?),
                    _ => return Err(bad("crop_size")),
                },
                _ => return Err(bad("crop_size")),
            })
        } else {
            None
        };

        let rescale_factor = if flag(&root, "do_rescale", true) {
            Some(
                root.get("rescale_factor")
                    .and_then(Value::as_f64)
                    .unwrap_or(1.0 / 255.0),
            )
        } else {
            None
        };

        let mean_std = if flag(&root, "do_normalize", true) {
            Some((
                triple(&root, "image_mean", defaults.mean)?,
                triple(&root, "image_std", defaults.std)?,
            ))
        } else {
            None
        };

        Ok(Self {
            resize,
            filter,
            crop,
            rescale_factor,
            mean_std,
        })
    }

    /// The side of the square the model sees, when the config produces one.
    pub fn output_size(&self) -> Option<(usize, usize)> {
        self.crop.or(match self.resize {
            Some(ResizeTo::Exact { height, width }) => Some((height, width)),
            _ => None,
        })
    }

    /// The full pipeline; returns CHW f32 and its (height, width).
    pub fn preprocess(&self, img: &DynamicImage) -> (Vec<f32>, usize, usize) {
        let mut rgb = to_rgb_like_pil(img);
        if let Some(target) = self.resize {
            let (h, w) = match target {
                ResizeTo::ShortestEdge(s) => shortest_edge_size(rgb.height, rgb.width, s),
                ResizeTo::Exact { height, width } => (height, width),
            };
            rgb = resize(&rgb, w, h, self.filter);
        }
        if let Some((ch, cw)) = self.crop {
            rgb = center_crop(&rgb, ch, cw);
        }
        let (h, w) = (rgb.height, rgb.width);
        let plane = h * w;
        let mut out = vec![0f32; 3 * plane];
        for (i, px) in rgb.data.chunks_exact(3).enumerate() {
            for c in 0..3 {
                // transformers rescales in float64 and casts to float32, then
                // normalises in float32; doing the same keeps bits identical.
                let mut v = match self.rescale_factor {
                    Some(f) => (px[c] as f64 * f) as f32,
                    None => px[c] as f32,
                };
                if let Some((mean, std)) = &self.mean_std {
                    v = (v - mean[c]) / std[c];
                }
                out[c * plane + i] = v;
            }
        }
        (out, h, w)
    }
}

/// transformers' `get_resize_output_image_size(default_to_square=False)`:
/// the long side is `int(size * long / short)`, i.e. truncated.
pub fn shortest_edge_size(height: usize, width: usize, size: usize) -> (usize, usize) {
    let (short, long) = if width <= height {
        (width, height)
    } else {
        (height, width)
    };
    let new_long = (((size * long) as f64 / short as f64) as usize).max(1);
    if width <= height {
        (new_long, size)
    } else {
        (size, new_long)
    }
}

/// transformers' `center_crop`: floor-divided offsets, zero padding (in u8
/// space, before normalisation) when the image is smaller than the crop.
pub fn center_crop(img: &U8Image, crop_h: usize, crop_w: usize) -> U8Image {
    let (h, w, ch) = (img.height as i64, img.width as i64, img.channels);
    let (chh, cww) = (crop_h as i64, crop_w as i64);
    // transformers pads by ceil(d / 2) and then crops at floor(-d / 2) + pad;
    // both collapse to reading source row `y + floor((h - crop) / 2)`, with
    // zeros outside the image.
    let top = (h - chh).div_euclid(2);
    let left = (w - cww).div_euclid(2);
    let mut out = vec![0u8; crop_h * crop_w * ch];
    for y in 0..chh {
        let sy = y + top;
        if !(0..h).contains(&sy) {
            continue;
        }
        for x in 0..cww {
            let sx = x + left;
            if !(0..w).contains(&sx) {
                continue;
            }
            let s = ((sy * w + sx) as usize) * ch;
            let d = ((y * cww + x) as usize) * ch;
            out[d..d + ch].copy_from_slice(&img.data[s..s + ch]);
        }
    }
    U8Image::new(crop_w, crop_h, ch, out)
}

/// PIL's `Image.convert("RGB")` on what PIL would have decoded: the first
/// step of the preprocessing every CLIP checkpoint was trained with (OpenAI
/// CLIP's and open_clip's `_convert_to_rgb`, and transformers 4.x).
///
/// Alpha is dropped, not composited: a transparent pixel keeps whatever
/// colour the encoder stored there (transformers 5 composites onto white
/// instead; docs/formats.md says why we follow the training pipelines).
/// Palette images with a tRNS chunk, which the image crate expands to RGBA,
/// thus become their palette colours, as in PIL. Grey is replicated. 16-bit
/// samples keep the high byte, as PIL's PNG and TIFF decoders do. For 16-bit
/// grey PIL's "I;16"->"RGB" clamps to 255 (nearly white); that reference
/// quirk is deliberately not copied: the high byte keeps such photos
/// searchable.
pub fn to_rgb_like_pil(img: &DynamicImage) -> U8Image {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let high = |v: u16| (v >> 8) as u8;
    let data: Vec<u8> = match img {
        DynamicImage::ImageRgb8(b) => b.as_raw().clone(),
        DynamicImage::ImageRgba8(b) => b
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        DynamicImage::ImageLuma8(b) => b.as_raw().iter().flat_map(|&v| [v, v, v]).collect(),
        DynamicImage::ImageLumaA8(b) => {
            b.as_raw().chunks_exact(2).flat_map(|p| [p[0]; 3]).collect()
        }
        DynamicImage::ImageRgb16(b) => b.as_raw().iter().map(|&v| high(v)).collect(),
        DynamicImage::ImageRgba16(b) => b
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [high(p[0]), high(p[1]), high(p[2])])
            .collect(),
        DynamicImage::ImageLuma16(b) => b.as_raw().iter().flat_map(|&v| [high(v); 3]).collect(),
        DynamicImage::ImageLumaA16(b) => b
            .as_raw()
            .chunks_exact(2)
            .flat_map(|p| [high(p[0]); 3])
            .collect(),
        other => other.to_rgb8().into_raw(),
    };
    U8Image::new(w, h, 3, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Rgb, RgbImage, RgbaImage};

    #[test]
    fn output_size_truncates_like_transformers() {
        // 224 * 500 / 333 = 336.336 -> 336
        assert_eq!(shortest_edge_size(333, 500, 224), (224, 336));
        assert_eq!(shortest_edge_size(500, 333, 224), (336, 224));
        assert_eq!(shortest_edge_size(224, 224, 224), (224, 224));
        // 224 * 641 / 480 = 299.13 -> 299
        assert_eq!(shortest_edge_size(480, 641, 224), (224, 299));
        // upscaling a thumbnail
        assert_eq!(shortest_edge_size(10, 30, 224), (224, 672));
    }

    #[test]
    fn crop_offsets_floor_and_pad() {
        let img = U8Image::new(5, 1, 1, vec![0, 1, 2, 3, 4]);
        // (5 - 2) // 2 = 1
        assert_eq!(center_crop(&img, 1, 2).data, vec![1, 2]);
        // crop wider than the image: padded with zeros, image centred with
        // ceil((7 - 5) / 2) = 1 on the left.
        assert_eq!(center_crop(&img, 1, 7).data, vec![0, 0, 1, 2, 3, 4, 0]);
        // (5 - 8) // 2 = -2, pad 2 -> window starts at 0 of the padded frame
        assert_eq!(center_crop(&img, 1, 8).data, vec![0, 0, 0, 1, 2, 3, 4, 0]);
        let tall = U8Image::new(1, 4, 1, vec![9, 8, 7, 6]);
        assert_eq!(center_crop(&tall, 3, 1).data, vec![9, 8, 7]);
    }

    #[test]
    fn conversion_drops_alpha_and_replicates_grey() {
        let rgba =
            RgbaImage::from_raw(3, 1, vec![10, 20, 30, 0, 10, 20, 30, 255, 0, 100, 200, 128])
                .unwrap();
        assert_eq!(
            to_rgb_like_pil(&DynamicImage::ImageRgba8(rgba)).data,
            vec![10, 20, 30, 10, 20, 30, 0, 100, 200]
        );
        let grey = GrayImage::from_raw(2, 1, vec![5, 250]).unwrap();
        assert_eq!(
            to_rgb_like_pil(&DynamicImage::ImageLuma8(grey)).data,
            vec![5, 5, 5, 250, 250, 250]
        );
    }

    #[test]
    fn defaults_and_normalisation_match_clip() {
        let cfg = ImageProcessorConfig::from_json(
            r#"{"crop_size": 224, "do_center_crop": true, "do_normalize": true, "do_resize": true,
                "feature_extractor_type": "CLIPFeatureExtractor",
                "image_mean": [0.48145466, 0.4578275, 0.40821073],
                "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224}"#,
        )
        .unwrap();
        assert_eq!(cfg, ImageProcessorConfig::default());
        assert_eq!(cfg.output_size(), Some((224, 224)));
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 200, Rgb([255, 0, 128])));
        let (px, h, w) = cfg.preprocess(&img);
        assert_eq!((h, w), (224, 224));
        assert_eq!(px.len(), 3 * 224 * 224);
        let expect_r = (1.0f32 - 0.48145466f64 as f32) / 0.26862954f64 as f32;
        assert_eq!(px[0], expect_r);
        let expect_g = (0.0f32 - 0.4578275f64 as f32) / 0.26130258f64 as f32;
        assert_eq!(px[224 * 224 + 5], expect_g);
        let b = ((128.0f64 * (1.0 / 255.0)) as f32 - 0.40821073f64 as f32) / 0.27577711f64 as f32;
        assert_eq!(px[2 * 224 * 224 + 999], b);
    }

    #[test]
    fn dict_sizes_parse() {
        let cfg = ImageProcessorConfig::from_json(
            r#"{"size": {"shortest_edge": 336}, "crop_size": {"height": 336, "width": 336},
                "do_rescale": true, "rescale_factor": 0.00392156862745098}"#,
        )
        .unwrap();
        assert_eq!(cfg.resize, Some(ResizeTo::ShortestEdge(336)));
        assert_eq!(cfg.output_size(), Some((336, 336)));
        assert!(ImageProcessorConfig::from_json(r#"{"resample": 0}"#).is_err());
    }

    #[test]
    fn siglip_defaults_resize_to_the_square_without_crop() {
        let cfg = ImageProcessorConfig::from_json_with(
            r#"{"size": {"height": 256, "width": 256}}"#,
            ProcessorDefaults::SIGLIP,
        )
        .unwrap();
        assert_eq!(cfg.crop, None);
        assert_eq!(cfg.filter, Filter::from_pil(2).unwrap());
        assert_eq!(cfg.output_size(), Some((256, 256)));
        assert_eq!(cfg.mean_std, Some(([0.5; 3], [0.5; 3])));
        let int =
            ImageProcessorConfig::from_json_with(r#"{"size": 384}"#, ProcessorDefaults::SIGLIP);
        assert_eq!(int.unwrap().output_size(), Some((384, 384)));
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 100, Rgb([255, 0, 51])));
        let (px, h, w) = cfg.preprocess(&img);
        assert_eq!((h, w), (256, 256));
        assert_eq!((px[0], px[256 * 256]), (1.0, -1.0));
        assert!((px[2 * 256 * 256] + 0.6).abs() < 1e-6);
    }
}
