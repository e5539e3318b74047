//! The Merkle tree of RFC 9162 section 2.1: leaf hash `SHA-256(0x00 || data)`,
//! interior node `SHA-256(0x01 || left || right)`, the tree of `n` leaves split at the
//! largest power of two below `n`; inclusion and consistency proofs (2.1.3.1, 2.1.4.1)
//! and their checks (2.1.3.2, 2.1.4.2).
//!
//! Proofs are computed from stored *perfect subtrees*: node `(level, index)` is the
//! hash of leaves `[index << level, (index + 1) << level)`. Every range the RFC's
//! recursion asks for splits into O(log n) of them, and a proof remembers the ranges it
//! has computed, so it costs O(log n) node reads.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: the hash of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Where the perfect subtrees' hashes come from.
pub trait Nodes {
    type Error;
    /// The hash of leaves `[index << level, (index + 1) << level)`.
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// The nodes that appending leaf `index` (whose leaf hash is `leaf`) completes, lowest
/// first: the leaf itself, and each perfect subtree the leaf is the last leaf of.
pub fn append<N: Nodes>(
    nodes: &mut N,
    index: u64,
    leaf: Hash,
) -> Result<Vec<(u8, u64, Hash)>, N::Error> {
    let mut completed = vec![(0, index, leaf)];
    let (mut level, mut at, mut hash) = (0u8, index, leaf);
    while at & 1 == 1 {
        let left = nodes.node(level, at - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        at >>= 1;
        completed.push((level, at, hash));
    }
    Ok(completed)
}

/// The largest power of two smaller than `n` (`n` > 1): where RFC 9162 splits.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// Computes subtree hashes over stored nodes, remembering each range it computed.
struct Tree<'a, N> {
    nodes: &'a mut N,
    known: HashMap<(u64, u64), Hash>,
}

impl<N: Nodes> Tree<'_, N> {
    /// MTH(D[start:end]) for a range the RFC's recursion produces: `start` is a
    /// multiple of the largest power of two not above `end - start`.
    fn hash(&mut self, start: u64, end: u64) -> Result<Hash, N::Error> {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            return self
                .nodes
                .node(n.trailing_zeros() as u8, start >> n.trailing_zeros());
        }
        if let Some(h) = self.known.get(&(start, end)) {
            return Ok(*h);
        }
        let k = split(n);
        let right = self.hash(start + k, end)?;
        let left = self.hash(start, start + k)?;
        let h = node_hash(&left, &right);
        self.known.insert((start, end), h);
        Ok(h)
    }

    /// PATH(m, D[start:end]) of RFC 9162 2.1.3.1, with `m` an absolute leaf index.
    fn path(&mut self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<(), N::Error> {
        let n = end - start;
        if n <= 1 {
            return Ok(());
        }
        let k = split(n);
        if m < start + k {
            self.path(m, start, start + k, out)?;
            out.push(self.hash(start + k, end)?);
        } else {
            self.path(m, start + k, end, out)?;
            out.push(self.hash(start, start + k)?);
        }
        Ok(())
    }

    /// SUBPROOF(m, D[start:end], b) of RFC 9162 2.1.4.1, with `m` relative to `start`.
    fn subproof(
        &mut self,
        m: u64,
        start: u64,
        end: u64,
        whole: bool,
        out: &mut Vec<Hash>,
    ) -> Result<(), N::Error> {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.hash(start, end)?);
            }
            return Ok(());
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out)?;
            out.push(self.hash(start + k, end)?);
        } else {
            self.subproof(m - k, start + k, end, false, out)?;
            out.push(self.hash(start, start + k)?);
        }
        Ok(())
    }
}

fn tree<N: Nodes>(nodes: &mut N) -> Tree<'_, N> {
    Tree {
        nodes,
        known: HashMap::new(),
    }
}

/// The root of the tree of the first `size` leaves.
pub fn root<N: Nodes>(nodes: &mut N, size: u64) -> Result<Hash, N::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    tree(nodes).hash(0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (`index < size`).
pub fn inclusion_proof<N: Nodes>(
    nodes: &mut N,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, N::Error> {
    let mut out = Vec::new();
    if index < size {
        tree(nodes).path(index, 0, size, &mut out)?;
    }
    Ok(out)
}

/// The consistency proof between the trees of `first` and `second` leaves
/// (`0 < first <= second`; empty when they are equal).
pub fn consistency_proof<N: Nodes>(
    nodes: &mut N,
    first: u64,
    second: u64,
) -> Result<Vec<Hash>, N::Error> {
    let mut out = Vec::new();
    if 0 < first && first < second {
        tree(nodes).subproof(first, 0, second, true, &mut out)?;
    }
    Ok(out)
}

/// Why a proof does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexBeyondSize { index: u64, size: u64 },
    #[error("the proof has {0} hashes, which is the wrong number for this leaf and tree")]
    WrongLength(usize),
    #[error("the proof does not lead to the root hash of the checkpoint")]
    RootMismatch,
    #[error("the first tree size {first} is 0 or larger than the second {second}")]
    BadSizes { first: u64, second: u64 },
}

/// Checks an inclusion proof as RFC 9162 2.1.3.2 says.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let (mut fn_, mut sn, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength(proof.len()));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength(proof.len()));
    }
    if &r != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks a consistency proof as RFC 9162 2.1.4.2 says.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if first == 0 || first > second {
        return Err(ProofError::BadSizes { first, second });
    }
    if first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength(proof.len()));
        }
        return if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let Some((head, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength(proof.len()));
    };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*head, *head);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength(proof.len()));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength(proof.len()));
    }
    if &fr != first_root || &sr != second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes in memory, filled by `append`, as the store fills sled.
    #[derive(Default)]
    struct Memory(HashMap<(u8, u64), Hash>);

    impl Nodes for Memory {
        type Error = String;
        fn node(&mut self, level: u8, index: u64) -> Result<Hash, String> {
            self.0
                .get(&(level, index))
                .copied()
                .ok_or(format!("no node ({level}, {index})"))
        }
    }

    fn grown(n: u64) -> (Memory, Vec<Hash>) {
        let mut m = Memory::default();
        let mut leaves = Vec::new();
        for i in 0..n {
            let leaf = leaf_hash(&i.to_be_bytes());
            leaves.push(leaf);
            for (l, x, h) in append(&mut m, i, leaf).unwrap() {
                m.0.insert((l, x), h);
            }
        }
        (m, leaves)
    }

    /// MTH straight from the RFC's definition, over all leaves.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn proofs_check_out_for_every_leaf_and_pair_up_to_40() {
        let (mut m, leaves) = grown(40);
        for n in 1..=40u64 {
            let root_n = root(&mut m, n).unwrap();
            assert_eq!(root_n, mth(&leaves[..n as usize]), "root {n}");
            for i in 0..n {
                let p = inclusion_proof(&mut m, i, n).unwrap();
                verify_inclusion(&leaves[i as usize], i, n, &p, &root_n).unwrap();
            }
            for f in 1..=n {
                let p = consistency_proof(&mut m, f, n).unwrap();
                let root_f = root(&mut m, f).unwrap();
                verify_consistency(f, n, &root_f, &root_n, &p).unwrap();
                if f < n {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_consistency(f, n, &root_f, &root_n, &bad).is_err());
                }
            }
        }
    }

    /// Counts the node reads a proof makes.
    struct Counting<'a>(&'a mut Memory, usize);

    impl Nodes for Counting<'_> {
        type Error = String;
        fn node(&mut self, level: u8, index: u64) -> Result<Hash, String> {
            self.1 += 1;
            self.0.node(level, index)
        }
    }

    #[test]
    fn a_proof_reads_o_log_n_nodes() {
        let (mut m, _) = grown(5000);
        // log2(5000) < 13: a proof reads a node per level of its path and per perfect
        // subtree of the sizes' right edge, each once.
        for size in [4097u64, 4999, 5000] {
            for index in [0, 1, size / 2, size - 2, size - 1] {
                let mut c = Counting(&mut m, 0);
                inclusion_proof(&mut c, index, size).unwrap();
                assert!(
                    c.1 <= 2 * 13,
                    "inclusion of {index} in {size}: {} reads",
                    c.1
                );
            }
            for first in [1, 2, 1000, 4095, 4096, size - 1] {
                let mut c = Counting(&mut m, 0);
                consistency_proof(&mut c, first, size).unwrap();
                assert!(c.1 <= 3 * 13, "consistency {first}..{size}: {} reads", c.1);
            }
        }
    }

    #[test]
    fn a_proof_with_one_byte_changed_or_a_hash_too_many_fails() {
        let (mut m, leaves) = grown(13);
        let r = root(&mut m, 13).unwrap();
        let p = inclusion_proof(&mut m, 5, 13).unwrap();
        for i in 0..p.len() {
            let mut bad = p.clone();
            bad[i][31] ^= 0x80;
            assert_eq!(
                verify_inclusion(&leaves[5], 5, 13, &bad, &r),
                Err(ProofError::RootMismatch)
            );
        }
        let mut long = p.clone();
        long.push(r);
        assert!(verify_inclusion(&leaves[5], 5, 13, &long, &r).is_err());
        assert!(verify_inclusion(&leaves[5], 5, 13, &p[1..], &r).is_err());
    }
}
