//! The C2SP `tlog-checkpoint` text: the origin line, the tree size in decimal, and the
//! root hash in standard base64, each ending in a newline. It is the text of a signed
//! note ([`super::note`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::Hash;

/// A checkpoint: the log `origin` had `size` leaves with root `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Why a note's text is not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the note's text is not a checkpoint: {0}")]
pub struct CheckpointError(&'static str);

impl Checkpoint {
    /// The checkpoint text, to be signed.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a checkpoint text (as a verified note answers it); extension lines after
    /// the root are allowed and ignored.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(CheckpointError("no origin line"))?;
        let size = lines
            .next()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .filter(|s| s.len() == 1 || !s.starts_with('0'))
            .and_then(|s| s.parse().ok())
            .ok_or(CheckpointError(
                "the second line is not a tree size in decimal",
            ))?;
        let root = lines
            .next()
            .and_then(|r| B64.decode(r).ok())
            .and_then(|r| r.try_into().ok())
            .ok_or(CheckpointError(
                "the third line is not a base64 SHA-256 root hash",
            ))?;
        if !text.ends_with('\n') {
            return Err(CheckpointError("it does not end in a newline"));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_as_written() {
        let c = Checkpoint {
            origin: "example.com/takedown".into(),
            size: 42,
            root: [3; 32],
        };
        assert_eq!(Checkpoint::parse(&c.text()).unwrap(), c);
        assert!(Checkpoint::parse("example.com/takedown\n042\nAAAA\n").is_err());
    }
}
