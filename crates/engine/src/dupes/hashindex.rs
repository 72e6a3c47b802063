//! Sub-quadratic grouping of 256-bit perceptual hashes: multi-index hashing
//! (Norouzi et al., "Fast search in Hamming space with multi-index hashing").
//!
//! The hash is cut into 16 chunks of 16 bits, each with its own table from
//! chunk value to photos. If two hashes differ in at most `r` bits, then by
//! the pigeonhole principle at least one chunk differs in at most
//! `r / 16` bits, so probing every chunk value within that many bits of the
//! query's chunk finds every pair within `r` (exact, no misses); the
//! candidates are then checked with the full 256-bit distance. Perceptual
//! hashes of unrelated photos differ in about half their bits, so few
//! candidates survive the probes and the cost stays near-linear, where
//! comparing all pairs grows with the square of the library.

/// A 256-bit perceptual hash as four words.
pub type Hash256 = [u64; 4];

const CHUNKS: usize = 16;
const CHUNK_BITS: u32 = 16;

/// Reads a 32-byte hash as stored in the catalog; `None` for other lengths.
pub fn hash_from_bytes(bytes: &[u8]) -> Option<Hash256> {
    if bytes.len() != 32 {
        return None;
    }
    let mut h = [0u64; 4];
    for (i, word) in h.iter_mut().enumerate() {
        *word = u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().ok()?);
    }
    Some(h)
}

#[inline]
pub fn distance(a: &Hash256, b: &Hash256) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

#[inline]
fn chunk(h: &Hash256, c: usize) -> u16 {
    (h[c / 4] >> ((c % 4) * 16)) as u16
}

/// The index: for each chunk, the photos sorted by that chunk's value
/// (compressed rows: `starts[v]..starts[v + 1]` are the photos whose chunk
/// equals `v`).
pub struct MultiIndex<'a> {
    hashes: &'a [Hash256],
    starts: Vec<Vec<u32>>,
    ids: Vec<Vec<u32>>,
}

impl<'a> MultiIndex<'a> {
    pub fn build(hashes: &'a [Hash256]) -> Self {
        let buckets = 1usize << CHUNK_BITS;
        let mut starts = Vec::with_capacity(CHUNKS);
        let mut ids = Vec::with_capacity(CHUNKS);
        for c in 0..CHUNKS {
            let mut count = vec![0u32; buckets + 1];
            for h in hashes {
                count[chunk(h, c) as usize + 1] += 1;
            }
            for v in 0..buckets {
                count[v + 1] += count[v];
            }
            let mut fill = count.clone();
            let mut rows = vec![0u32; hashes.len()];
            for (i, h) in hashes.iter().enumerate() {
                let slot = &mut fill[chunk(h, c) as usize];
                rows[*slot as usize] = i as u32;
                *slot += 1;
            }
            starts.push(count);
            ids.push(rows);
        }
        MultiIndex {
            hashes,
            starts,
            ids,
        }
    }

    /// Bytes held by the tables (not counting the hashes themselves).
    pub fn memory_bytes(&self) -> usize {
        self.starts.iter().map(|s| s.len() * 4).sum::<usize>()
            + self.ids.iter().map(|s| s.len() * 4).sum::<usize>()
    }

    /// Every pair `(i, j)`, `i < j`, within `radius` bits, each once.
    pub fn pairs_within(&self, radius: u32) -> Vec<(u32, u32, u32)> {
        self.search(self.hashes, radius, |i, j| j > i)
    }

    /// For each query, the indexed hashes within `radius` bits:
    /// `(query, indexed, distance)`.
    pub fn matches(&self, queries: &[Hash256], radius: u32) -> Vec<(u32, u32, u32)> {
        self.search(queries, radius, |_, _| true)
    }

    /// Probes the tables for every query, split across the machine's cores
    /// (each thread with its own "already seen" marks), in query order.
    fn search(
        &self,
        queries: &[Hash256],
        radius: u32,
        wanted: impl Fn(usize, usize) -> bool + Sync,
    ) -> Vec<(u32, u32, u32)> {
        let masks = flip_masks(radius / CHUNKS as u32);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 16);
        let per = queries.len().div_ceil(threads).max(1024);
        let parts: Vec<Vec<(u32, u32, u32)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = queries
                .chunks(per)
                .enumerate()
                .map(|(k, part)| {
                    let (masks, wanted) = (&masks, &wanted);
                    scope.spawn(move || self.probe(part, k * per, radius, masks, wanted))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("hash search thread"))
                .collect()
        });
        parts.concat()
    }

    fn probe(
        &self,
        queries: &[Hash256],
        first: usize,
        radius: u32,
        masks: &[u16],
        wanted: &(impl Fn(usize, usize) -> bool + Sync),
    ) -> Vec<(u32, u32, u32)> {
        let mut seen = vec![u32::MAX; self.hashes.len()];
        let mut out = Vec::new();
        for (k, q) in queries.iter().enumerate() {
            let qi = first + k;
            for c in 0..CHUNKS {
                let base = chunk(q, c);
                for &m in masks {
                    let v = (base ^ m) as usize;
                    let rows =
                        &self.ids[c][self.starts[c][v] as usize..self.starts[c][v + 1] as usize];
                    for &j in rows {
                        let j = j as usize;
                        if seen[j] == qi as u32 || !wanted(qi, j) {
                            continue;
                        }
                        seen[j] = qi as u32;
                        let d = distance(q, &self.hashes[j]);
                        if d <= radius {
                            out.push((qi as u32, j as u32, d));
                        }
                    }
                }
            }
        }
        out
    }
}

/// Every 16-bit mask with at most `bits` bits set.
fn flip_masks(bits: u32) -> Vec<u16> {
    (0..=u16::MAX).filter(|m| m.count_ones() <= bits).collect()
}

/// The quadratic baseline: compare every pair, on as many threads as the
/// multi-index uses (rows dealt round-robin, so the triangle is balanced).
pub fn all_pairs_within(hashes: &[Hash256], radius: u32) -> Vec<(u32, u32, u32)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 16);
    let mut out: Vec<(u32, u32, u32)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for i in (t..hashes.len()).step_by(threads) {
                        for j in i + 1..hashes.len() {
                            let d = distance(&hashes[i], &hashes[j]);
                            if d <= radius {
                                out.push((i as u32, j as u32, d));
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("all-pairs thread"))
            .collect()
    });
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *state
    }

    #[test]
    fn multi_index_finds_exactly_the_all_pairs_answer() {
        let mut s = 7u64;
        let mut hashes: Vec<Hash256> = (0..400)
            .map(|_| [lcg(&mut s), lcg(&mut s), lcg(&mut s), lcg(&mut s)])
            .collect();
        // Plant near copies at many distances, including past the radius.
        for k in 0..200usize {
            let mut h = hashes[k];
            for b in 0..(k % 60) {
                let bit = (lcg(&mut s) % 256) as usize;
                let _ = b;
                h[bit / 64] ^= 1 << (bit % 64);
            }
            hashes.push(h);
        }
        for radius in [0, 10, 31, 40, 47] {
            let mut a = MultiIndex::build(&hashes).pairs_within(radius);
            let mut b = all_pairs_within(&hashes, radius);
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "radius {radius}");
            assert!(!a.is_empty());
        }
    }

    #[test]
    fn bad_lengths_are_refused() {
        assert!(hash_from_bytes(&[0; 8]).is_none());
        assert!(hash_from_bytes(&[0; 32]).is_some());
    }
}
