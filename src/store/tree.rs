//! The Merkle tree over the audit log (RFC 9162, `tlog::merkle`), kept in sled: leaf
//! `seq - 1` is the leaf hash of audit entry `seq`'s chain hash, and every perfect
//! subtree's hash is stored under `keyspace::TREE_NODE` in the same batch as the entry,
//! so the tree always has exactly `applied_seq` leaves and a root or a proof costs
//! O(log n) reads. Rebuilding the store from the journal rebuilds the same tree.

use std::collections::HashMap;

use super::{Store, StoreError, keyspace};
use crate::pb;
use crate::tlog::Hash;
use crate::tlog::merkle::{self, Nodes};

/// Why a tree read was refused.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error(
        "tree size {size} is larger than the log ({current} entries); ask for at most {current}"
    )]
    TooLarge { size: u64, current: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Nodes already read or written, so that the receipts of a write group, and the
/// upper levels every proof shares, do not go back to sled. A node never changes once
/// written, so the cache never goes stale; it is emptied when it reaches
/// [`CACHE_NODES`], and refills with what is read and written after.
#[derive(Default)]
pub(super) struct NodeCache(std::sync::RwLock<HashMap<(u8, u64), Hash>>);

/// Most nodes cached (about 80 bytes each).
const CACHE_NODES: usize = 1 << 18;

impl NodeCache {
    fn get(&self, level: u8, index: u64) -> Option<Hash> {
        self.0.read().ok()?.get(&(level, index)).copied()
    }

    pub(super) fn remember(&self, nodes: impl IntoIterator<Item = ((u8, u64), Hash)>) {
        let Ok(mut cache) = self.0.write() else {
            return;
        };
        for (key, hash) in nodes {
            if cache.len() >= CACHE_NODES {
                cache.clear();
            }
            cache.insert(key, hash);
        }
    }
}

/// Nodes from the cache or sled, and those this batch has computed but not yet written.
struct Stored<'a> {
    store: &'a Store,
    pending: Option<&'a HashMap<(u8, u64), Hash>>,
}

impl Nodes for Stored<'_> {
    type Error = StoreError;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, StoreError> {
        if let Some(h) = self.pending.and_then(|p| p.get(&(level, index))) {
            return Ok(*h);
        }
        if let Some(h) = self.store.tree_cache.get(level, index) {
            return Ok(h);
        }
        let key = keyspace::tree_node(level, index);
        let hash: Hash = self
            .store
            .db
            .get(&key)?
            .and_then(|v| v.as_ref().try_into().ok())
            .ok_or(StoreError::MissingTreeNode { level, index })?;
        self.store.tree_cache.remember([((level, index), hash)]);
        Ok(hash)
    }
}

/// Adds the leaves of `entries` (in seq order) to `batch`: each leaf and the perfect
/// subtrees it completes. Answers the new nodes, for the cache once the batch is in.
pub(super) fn append(
    store: &Store,
    entries: &[pb::JournalEntry],
    batch: &mut sled::Batch,
) -> Result<HashMap<(u8, u64), Hash>, StoreError> {
    let mut pending = HashMap::new();
    for audit in entries.iter().filter_map(|e| e.audit.as_ref()) {
        let Some(index) = audit.seq.checked_sub(1) else {
            continue;
        };
        let leaf = merkle::leaf_hash(&audit.hash);
        let mut nodes = Stored {
            store,
            pending: Some(&pending),
        };
        let completed = merkle::append(&mut nodes, index, leaf)?;
        for (level, at, hash) in completed {
            batch.insert(keyspace::tree_node(level, at), hash.to_vec());
            pending.insert((level, at), hash);
        }
    }
    Ok(pending)
}

impl Store {
    fn nodes(&self) -> Stored<'_> {
        Stored {
            store: self,
            pending: None,
        }
    }

    /// The tree's size: every applied entry is a leaf.
    pub fn tree_size(&self) -> Result<u64, StoreError> {
        self.applied_seq()
    }

    /// `size`, or the current size for 0, if the tree has that many leaves.
    fn size_or_current(&self, size: u64) -> Result<u64, TreeError> {
        let current = self.tree_size()?;
        match size {
            0 => Ok(current),
            s if s > current => Err(TreeError::TooLarge { size, current }),
            s => Ok(s),
        }
    }

    /// The root of the tree of the first `size` leaves.
    pub fn tree_root(&self, size: u64) -> Result<Hash, TreeError> {
        let size = self.size_or_current(size)?;
        Ok(merkle::root(&mut self.nodes(), size)?)
    }

    /// The inclusion proof of entry `seq` in the tree of `size` leaves (0: the current
    /// tree), and the size it is for.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<(u64, Vec<Hash>), TreeError> {
        let size = self.size_or_current(size)?;
        if seq == 0 || seq > size {
            return Err(TreeError::Invalid(format!(
                "seq {seq} is not in the tree of {size} entries; ask for a seq from 1 to the tree size"
            )));
        }
        Ok((
            size,
            merkle::inclusion_proof(&mut self.nodes(), seq - 1, size)?,
        ))
    }

    /// The consistency proof from the tree of `first` leaves to that of `second` (0:
    /// the current tree), and the second size.
    pub fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<(u64, Vec<Hash>), TreeError> {
        let second = self.size_or_current(second)?;
        if first == 0 || first > second {
            return Err(TreeError::Invalid(format!(
                "first_size {first} must be from 1 to the second size {second}"
            )));
        }
        Ok((
            second,
            merkle::consistency_proof(&mut self.nodes(), first, second)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal;
    use crate::tlog::merkle::{leaf_hash, node_hash};

    /// MTH from the RFC's definition, independent of the stored nodes.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => merkle::empty_root(),
            1 => leaves[0],
            n => node_hash(&mth(&leaves[..k(n)]), &mth(&leaves[k(n)..])),
        }
    }

    /// Applies `n` sealed entries in groups of uneven sizes, as the writer does.
    fn store_with(n: u64) -> (tempfile::TempDir, Store, Vec<Hash>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 22).unwrap();
        let mut prev = journal::GENESIS;
        let mut leaves = Vec::new();
        let mut group = Vec::new();
        for seq in 1..=n {
            let mut entry = pb::JournalEntry::default();
            prev = journal::seal(&mut entry, seq, &prev);
            leaves.push(leaf_hash(&prev));
            group.push(entry);
            if group.len() as u64 == seq % 7 + 1 {
                store.apply(&group).unwrap();
                group.clear();
            }
        }
        store.apply(&group).unwrap();
        (dir, store, leaves)
    }

    /// The largest power of two below `n`.
    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// The root an inclusion proof leads to, by the recursion that defines PATH in
    /// RFC 9162 2.1.3.1 (not by the iterative check the product uses).
    fn root_from(leaf: Hash, m: usize, n: usize, proof: &[Hash]) -> Option<Hash> {
        if n == 1 {
            return proof.is_empty().then_some(leaf);
        }
        let (top, rest) = proof.split_last()?;
        let k = k(n);
        Some(if m < k {
            node_hash(&root_from(leaf, m, k, rest)?, top)
        } else {
            node_hash(top, &root_from(leaf, m - k, n - k, rest)?)
        })
    }

    /// SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1, from the leaves.
    fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        if m == d.len() {
            return if b { Vec::new() } else { vec![mth(d)] };
        }
        let k = k(d.len());
        let mut p = if m <= k {
            subproof(m, &d[..k], b)
        } else {
            subproof(m - k, &d[k..], false)
        };
        p.push(if m <= k { mth(&d[k..]) } else { mth(&d[..k]) });
        p
    }

    #[test]
    fn every_leaf_of_a_tree_of_3000_has_the_rfc_inclusion_proof_and_sizes_are_consistent() {
        let (_dir, store, leaves) = store_with(3000);
        let root = mth(&leaves);
        for seq in 1..=3000u64 {
            let (size, proof) = store.inclusion_proof(seq, 0).unwrap();
            assert_eq!(size, 3000);
            let m = (seq - 1) as usize;
            assert_eq!(
                root_from(leaves[m], m, 3000, &proof),
                Some(root),
                "leaf {m}"
            );
        }
        for first in [1, 2, 3, 511, 512, 513, 1000, 1024, 2047, 2048, 2999, 3000] {
            for second in [first, 2048, 2049, 3000] {
                if second < first {
                    continue;
                }
                let (_, proof) = store.consistency_proof(first, second).unwrap();
                let d = &leaves[..second as usize];
                let want = if first == second {
                    Vec::new()
                } else {
                    subproof(first as usize, d, true)
                };
                assert_eq!(proof, want, "PROOF({first}, D[{second}])");
            }
        }
    }

    #[test]
    fn every_root_of_a_tree_of_3000_matches_the_rfc_definition_at_powers_and_edges() {
        let (_dir, store, leaves) = store_with(3000);
        assert_eq!(store.tree_size().unwrap(), 3000);
        for size in [1, 2, 3, 7, 8, 9, 1023, 1024, 1025, 2047, 2048, 2999, 3000] {
            assert_eq!(
                store.tree_root(size).unwrap(),
                mth(&leaves[..size as usize])
            );
        }
        assert!(matches!(
            store.tree_root(3001),
            Err(TreeError::TooLarge { .. })
        ));
    }
}
