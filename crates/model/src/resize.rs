//! Pillow's convolution resampling (`Image.resize`), reproduced bit for bit
//! for 8-bit RGB.
//!
//! The reference preprocessing (transformers' `CLIPImageProcessor`) resizes
//! with Pillow, so any other resampler (image's `resize`, fast_image_resize)
//! shifts pixel values by a level or more and costs embedding parity. This
//! follows `libImaging/Resample.c`: double-precision coefficients whose
//! support widens with the downscale factor (antialiasing), quantised to
//! 22-bit fixed point, a horizontal pass rounded and clamped to u8, then a
//! vertical pass.

/// Pillow's resampling filters, numbered as in `PIL.Image.Resampling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Box,
    Bilinear,
    Hamming,
    Bicubic,
    Lanczos,
}

impl Filter {
    /// Maps a `resample` value from preprocessor_config.json. `NEAREST` (0)
    /// takes a different code path in Pillow and is not used by CLIP-family
    /// models, so it is reported as unsupported.
    pub fn from_pil(code: u64) -> Option<Filter> {
        match code {
            1 => Some(Filter::Lanczos),
            2 => Some(Filter::Bilinear),
            3 => Some(Filter::Bicubic),
            4 => Some(Filter::Box),
            5 => Some(Filter::Hamming),
            _ => None,
        }
    }

    fn support(self) -> f64 {
        match self {
            Filter::Box => 0.5,
            Filter::Bilinear | Filter::Hamming => 1.0,
            Filter::Bicubic => 2.0,
            Filter::Lanczos => 3.0,
        }
    }

    fn eval(self, x: f64) -> f64 {
        match self {
            Filter::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Filter::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            Filter::Hamming => {
                let x = x.abs();
                if x == 0.0 {
                    1.0
                } else if x >= 1.0 {
                    0.0
                } else {
                    let x = x * std::f64::consts::PI;
                    // Pillow writes these constants as C floats.
                    x.sin() / x * (0.54f32 as f64 + 0.46f32 as f64 * x.cos())
                }
            }
            Filter::Bicubic => {
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Filter::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Fixed-point taps for one axis: for each output index, the first input
/// index, the number of taps, and `ksize` coefficients.
struct Coeffs {
    ksize: usize,
    bounds: Vec<(usize, usize)>,
    kk: Vec<i32>,
}

fn precompute_coeffs(in_size: usize, out_size: usize, filter: Filter) -> Coeffs {
    // Pillow passes the box as C floats; exact for any realistic size.
    let in0 = 0.0f32;
    let in1 = in_size as f32;
    let scale = (in1 - in0) as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filter.support() * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;

    let mut bounds = Vec::with_capacity(out_size);
    let mut kk = vec![0i32; out_size * ksize];
    let mut k = vec![0f64; ksize];
    for xx in 0..out_size {
        let center = in0 as f64 + (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        // C's (int) cast truncates toward zero, as `as i64` does.
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) - xmin;
        let (xmin, xmax) = (xmin as usize, xmax.max(0) as usize);
        let mut ww = 0.0;
        for (x, kx) in k.iter_mut().enumerate().take(xmax) {
            let w = filter.eval(((x + xmin) as f64 - center + 0.5) * ss);
            *kx = w;
            ww += w;
        }
        for (x, kx) in k.iter().enumerate().take(xmax) {
            let w = if ww != 0.0 { kx / ww } else { *kx };
            let fixed = w * (1u32 << PRECISION_BITS) as f64;
            kk[xx * ksize + x] = if w < 0.0 {
                (-0.5 + fixed) as i32
            } else {
                (0.5 + fixed) as i32
            };
        }
        bounds.push((xmin, xmax));
    }
    Coeffs { ksize, bounds, kk }
}

#[inline]
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// An interleaved 8-bit image with `channels` samples per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct U8Image {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
}

impl U8Image {
    pub fn new(width: usize, height: usize, channels: usize, data: Vec<u8>) -> Self {
        assert_eq!(data.len(), width * height * channels, "buffer size");
        Self {
            width,
            height,
            channels,
            data,
        }
    }
}

/// `PIL.Image.resize((width, height), filter)` for an 8-bit image.
///
/// Pillow (12 and later) runs the vertical pass first when the height
/// shrinks by more than twice what the width does, else the horizontal
/// pass first on only the rows the vertical pass will read. The
/// intermediate image is 8-bit, so the order changes results by a level.
pub fn resize(img: &U8Image, width: usize, height: usize, filter: Filter) -> U8Image {
    assert!(width > 0 && height > 0, "resize to an empty image");
    if width == img.width && height == img.height {
        return img.clone();
    }
    let need_h = width != img.width;
    let need_v = height != img.height;
    let shrink_v = img.height as i64 - height as i64;
    let shrink_h = img.width as i64 - width as i64;
    let vertical_first = shrink_v > 0 && shrink_v > shrink_h * 2;
    let vert = need_v.then(|| precompute_coeffs(img.height, height, filter));

    if vertical_first {
        let v = vert.expect("the height shrinks");
        let tall = vertical(img, height, &v, 0);
        if !need_h {
            return tall;
        }
        let horiz = precompute_coeffs(img.width, width, filter);
        return horizontal(&tall, width, &horiz, 0, height);
    }
    if !need_h {
        return vertical(img, height, &vert.expect("need_v when !need_h"), 0);
    }
    let horiz = precompute_coeffs(img.width, width, filter);
    // Pillow only resamples the source rows the vertical pass will read.
    let (row0, row1) = match &vert {
        Some(v) => {
            let first = v.bounds.first().map_or(0, |b| b.0);
            let last = v.bounds.last().map_or(0, |b| b.0 + b.1);
            (first, last)
        }
        None => (0, img.height),
    };
    let wide = horizontal(img, width, &horiz, row0, row1 - row0);
    match vert {
        Some(v) => vertical(&wide, height, &v, row0),
        None => wide,
    }
}

/// The horizontal pass over `rows` source rows starting at `row0`.
fn horizontal(img: &U8Image, width: usize, horiz: &Coeffs, row0: usize, rows: usize) -> U8Image {
    let ch = img.channels;
    let mut out = vec![0u8; width * rows * ch];
    let half = 1i32 << (PRECISION_BITS - 1);
    for y in 0..rows {
        let src = &img.data[(y + row0) * img.width * ch..(y + row0 + 1) * img.width * ch];
        let dst = &mut out[y * width * ch..(y + 1) * width * ch];
        for (xx, &(xmin, xmax)) in horiz.bounds.iter().enumerate() {
            let k = &horiz.kk[xx * horiz.ksize..xx * horiz.ksize + xmax];
            let px = &src[xmin * ch..(xmin + xmax) * ch];
            if ch == 3 {
                // The common case, written so the three sums stay in
                // registers: this loop is most of the cost of shrinking
                // a 12-megapixel photo.
                let mut acc = [half; 3];
                for (p, &kv) in px.chunks_exact(3).zip(k) {
                    acc[0] = acc[0].wrapping_add(p[0] as i32 * kv);
                    acc[1] = acc[1].wrapping_add(p[1] as i32 * kv);
                    acc[2] = acc[2].wrapping_add(p[2] as i32 * kv);
                }
                dst[xx * 3..xx * 3 + 3].copy_from_slice(&acc.map(clip8));
            } else {
                for c in 0..ch {
                    let mut acc = half;
                    for (p, &kv) in px.chunks_exact(ch).zip(k) {
                        acc = acc.wrapping_add(p[c] as i32 * kv);
                    }
                    dst[xx * ch + c] = clip8(acc);
                }
            }
        }
    }
    U8Image::new(width, rows, ch, out)
}

fn vertical(img: &U8Image, height: usize, coeffs: &Coeffs, row_offset: usize) -> U8Image {
    let ch = img.channels;
    let stride = img.width * ch;
    let mut out = vec![0u8; stride * height];
    let half = 1i32 << (PRECISION_BITS - 1);
    let mut acc = vec![0i32; stride];
    for (yy, &(ymin, ymax)) in coeffs.bounds.iter().enumerate() {
        let k = &coeffs.kk[yy * coeffs.ksize..yy * coeffs.ksize + ymax];
        acc.fill(half);
        // Row-major accumulation keeps the inner loop contiguous; integer
        // sums are exact, so the order does not change the result.
        for (i, &kv) in k.iter().enumerate() {
            let row = ymin + i - row_offset;
            let src = &img.data[row * stride..(row + 1) * stride];
            for (a, &s) in acc.iter_mut().zip(src) {
                *a = a.wrapping_add(s as i32 * kv);
            }
        }
        for (d, &a) in out[yy * stride..(yy + 1) * stride].iter_mut().zip(&acc) {
            *d = clip8(a);
        }
    }
    U8Image::new(img.width, height, ch, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(width: usize, height: usize, f: impl Fn(usize, usize) -> u8) -> U8Image {
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                data.push(f(x, y));
            }
        }
        U8Image::new(width, height, 1, data)
    }

    #[test]
    fn constant_image_stays_constant() {
        for filter in [
            Filter::Box,
            Filter::Bilinear,
            Filter::Hamming,
            Filter::Bicubic,
            Filter::Lanczos,
        ] {
            let img = U8Image::new(37, 23, 3, vec![200; 37 * 23 * 3]);
            for (w, h) in [(10, 7), (64, 50), (37, 9), (5, 23)] {
                let out = resize(&img, w, h, filter);
                assert_eq!((out.width, out.height), (w, h));
                assert!(out.data.iter().all(|&v| v == 200), "{filter:?} {w}x{h}");
            }
        }
    }

    #[test]
    fn pass_order_follows_pillow() {
        let img = pattern(); // 53 x 41
        let two_pass = |first: (usize, usize), w: usize, h: usize| {
            resize(
                &resize(&img, first.0, first.1, Filter::Bicubic),
                w,
                h,
                Filter::Bicubic,
            )
        };
        // The height shrinks by 30, more than twice the width's 3: vertical first.
        assert_eq!(
            resize(&img, 50, 11, Filter::Bicubic),
            two_pass((53, 11), 50, 11)
        );
        assert_ne!(
            resize(&img, 50, 11, Filter::Bicubic),
            two_pass((50, 41), 50, 11)
        );
        // Shrinking evenly: horizontal first.
        assert_eq!(
            resize(&img, 20, 15, Filter::Bicubic),
            two_pass((20, 41), 20, 15)
        );
    }

    #[test]
    fn bicubic_coefficients_sum_to_one_and_widen_when_downscaling() {
        let c = precompute_coeffs(1000, 224, Filter::Bicubic);
        // support 2 * (1000/224) = 8.93 -> ksize 2*9+1
        assert_eq!(c.ksize, 19);
        for (i, &(_, n)) in c.bounds.iter().enumerate() {
            let sum: i64 = c.kk[i * c.ksize..i * c.ksize + n]
                .iter()
                .map(|&v| v as i64)
                .sum();
            assert!((sum - (1 << PRECISION_BITS)).abs() <= n as i64, "{sum}");
        }
        let up = precompute_coeffs(100, 224, Filter::Bicubic);
        assert_eq!(up.ksize, 5);
    }

    /// A deterministic RGB pattern with enough high-frequency content that
    /// every filter rings and clamps.
    fn pattern() -> U8Image {
        let (w, h) = (53usize, 41usize);
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    data.push(((x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 13) % 256) as u8);
                }
            }
        }
        U8Image::new(w, h, 3, data)
    }

    fn digest(bytes: &[u8]) -> u64 {
        const P: u128 = (1 << 61) - 1;
        let mut s: u128 = 0;
        for (i, &v) in bytes.iter().enumerate() {
            s = (s * 1_000_003 + v as u128 + i as u128) % P;
        }
        s as u64
    }

    /// Golden digests from Pillow 13.0 `Image.resize((w, h), resample=..)` on
    /// the same pattern (script in the commit message of this test).
    #[test]
    fn matches_pillow_bit_for_bit() {
        let img = pattern();
        let cases: &[(Filter, usize, usize, u64)] = &[
            (Filter::Bicubic, 17, 13, 192801497778038917),
            (Filter::Bicubic, 100, 80, 1956913749260827600),
            (Filter::Bicubic, 53, 20, 330251935878870844),
            (Filter::Bicubic, 20, 41, 610994682559419740),
            (Filter::Bicubic, 224, 224, 2275238236772859891),
            (Filter::Bilinear, 17, 13, 1108672060997810341),
            (Filter::Bilinear, 100, 80, 2281966854625733689),
            (Filter::Bilinear, 53, 20, 1692327392701030626),
            (Filter::Bilinear, 20, 41, 1408420835003555670),
            (Filter::Bilinear, 224, 224, 640427611392735662),
            (Filter::Lanczos, 17, 13, 1333418522105595753),
            (Filter::Lanczos, 100, 80, 1724650642570178802),
            (Filter::Lanczos, 53, 20, 1458254081934141044),
            (Filter::Lanczos, 20, 41, 1179777920522849844),
            (Filter::Lanczos, 224, 224, 1834529679465118984),
            (Filter::Box, 17, 13, 2014469789991343632),
            (Filter::Box, 100, 80, 341227109066842398),
            (Filter::Box, 53, 20, 2298320800406491909),
            (Filter::Box, 20, 41, 2117572479704443952),
            (Filter::Box, 224, 224, 2090560720134742499),
            (Filter::Hamming, 17, 13, 1582352070712444180),
            (Filter::Hamming, 100, 80, 1172731251290001230),
            (Filter::Hamming, 53, 20, 476597977681326441),
            (Filter::Hamming, 20, 41, 2164290272417285488),
            (Filter::Hamming, 224, 224, 2178398506360269064),
        ];
        for &(filter, w, h, want) in cases {
            let out = resize(&img, w, h, filter);
            assert_eq!(digest(&out.data), want, "{filter:?} {w}x{h}");
        }
        let small = resize(&img, 7, 5, Filter::Bicubic);
        let want = "8381897a73877b7d81808682838086807a8585797e8971808890858181817e6f7f847e7b7d83918385887a837b7e84857c82807c7780807c82827b8981828483768285867e82818375707e837c848583847e858879817b858e7c827f837b72807c847f81828b787e86";
        let got: String = small.data.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn identity_taps_are_exact() {
        // At scale 1 the bicubic kernel is 0 at +-1 and +-2, so a one-axis
        // resize must leave the other axis untouched.
        let img = gray(9, 6, |x, y| (x * 17 + y * 31) as u8);
        let out = resize(&img, 9, 3, Filter::Bicubic);
        let c = precompute_coeffs(6, 3, Filter::Bicubic);
        for x in 0..9 {
            for (yy, &(ymin, n)) in c.bounds.iter().enumerate() {
                let mut acc = 1i32 << (PRECISION_BITS - 1);
                for j in 0..n {
                    acc += img.data[(ymin + j) * 9 + x] as i32 * c.kk[yy * c.ksize + j];
                }
                assert_eq!(out.data[yy * 9 + x], clip8(acc));
            }
        }
    }

    #[test]
    fn overshoot_is_clamped_between_passes() {
        // A hard edge makes bicubic ring past 0 and 255; both passes clamp.
        let img = gray(
            16,
            16,
            |x, y| if (x / 4 + y / 4) % 2 == 0 { 0 } else { 255 },
        );
        let out = resize(&img, 24, 24, Filter::Bicubic);
        assert!(out.data.contains(&0) && out.data.contains(&255));
    }
}
