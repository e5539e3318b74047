//! C2SP `signed-note` with Ed25519 (algorithm byte 0x01), as `golang.org/x/mod/sumdb/note`
//! reads it: a text ending in a newline, a blank line, and signature lines
//! `— <key name> <base64(key id || signature)>`; the key id is the first 4 bytes of
//! `SHA-256(key name || 0x0A || 0x01 || public key)`, and the signature covers the
//! text including its final newline. A verifier key is
//! `<key name>+<key id as 8 hex digits>+<base64(0x01 || public key)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type of Ed25519 in C2SP notes.
const ED25519: u8 = 0x01;
/// The start of every signature line: an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note, a key name or a verifier key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error(
        "key name {0:?} is not usable: a note key name is non-empty and has no spaces and no '+'"
    )]
    BadName(String),
    #[error(
        "the verifier key is malformed ({0}); it looks like name+8 hex digits+base64, as GetCheckpoint's verifier_key answers"
    )]
    BadVerifierKey(&'static str),
    #[error("the note is malformed: {0}")]
    Malformed(&'static str),
    #[error("the note carries no signature by {name} (key id {key_id}); is it the right key?")]
    NotSignedByKey { name: String, key_id: String },
    #[error("the signature by {0} does not verify: the note was altered or signed by another key")]
    BadSignature(String),
}

/// A key name as C2SP and Go's note package allow it.
pub fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadName(name.to_string()));
    }
    Ok(())
}

/// The key id of an Ed25519 key under a name.
pub fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Signs notes as one named key.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    id: [u8; 4],
}

impl NoteSigner {
    /// A signer with the 32-byte Ed25519 seed `seed` under `name`.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, &key.verifying_key());
        Ok(Self {
            name: name.to_string(),
            key,
            id,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key string that checks this signer's notes.
    pub fn verifier_key(&self) -> String {
        let mut k = vec![ED25519];
        k.extend_from_slice(self.key.verifying_key().as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(k))
    }

    /// The signed note of `text` (which must end in a newline and hold no blank line).
    pub fn sign(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut sig = self.id.to_vec();
        sig.extend_from_slice(&signature.to_bytes());
        format!("{text}\n{SIG_PREFIX}{} {}\n", self.name, B64.encode(sig))
    }
}

/// Checks notes against one verifier key.
#[derive(Debug, Clone)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses a verifier key string `name+keyid+base64(0x01 || public key)`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let vkey = vkey.trim();
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::BadVerifierKey(
                "it has fewer than three '+'-separated parts",
            ));
        };
        check_name(name).map_err(|_| NoteError::BadVerifierKey("the key name is not valid"))?;
        let id: [u8; 4] = hex::decode(id_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(NoteError::BadVerifierKey("the key id is not 8 hex digits"))?;
        let raw = B64
            .decode(key_b64)
            .map_err(|_| NoteError::BadVerifierKey("the key is not base64"))?;
        let public: [u8; 32] = match raw.split_first() {
            Some((&ED25519, rest)) => rest
                .try_into()
                .map_err(|_| NoteError::BadVerifierKey("an Ed25519 key is 32 bytes"))?,
            _ => {
                return Err(NoteError::BadVerifierKey(
                    "only Ed25519 keys (type 0x01) are known",
                ));
            }
        };
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::BadVerifierKey("the bytes are not an Ed25519 public key"))?;
        if key_id(name, &key) != id {
            return Err(NoteError::BadVerifierKey(
                "the key id does not match the name and key",
            ));
        }
        Ok(Self {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks that `note` is signed by this key and answers its text (up to and
    /// including the newline before the blank line). Signatures by other keys are
    /// ignored, as the spec says.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        if note.chars().any(|c| c.is_ascii_control() && c != '\n') {
            return Err(NoteError::Malformed("it holds control characters"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "the last signature line has no newline",
            ));
        }
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed(
                "a signature line does not start with an em dash",
            ))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("a signature line has no signature"))?;
            let sig = B64
                .decode(b64)
                .map_err(|_| NoteError::Malformed("a signature is not base64"))?;
            if sig.len() < 5 {
                return Err(NoteError::Malformed("a signature is too short"));
            }
            if name != self.name || sig[..4] != self.id {
                continue;
            }
            let signature = Signature::from_slice(&sig[4..])
                .map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            return self
                .key
                .verify(text.as_bytes(), &signature)
                .map(|()| text)
                .map_err(|_| NoteError::BadSignature(self.name.clone()));
        }
        Err(NoteError::NotSignedByKey {
            name: self.name.clone(),
            key_id: hex::encode(self.id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_signed_opens_with_its_key_and_not_another() {
        let signer = NoteSigner::new("example.com/log", &[7; 32]).unwrap();
        let note = signer.sign("hello\nworld\n");
        let verifier = NoteVerifier::parse(&signer.verifier_key()).unwrap();
        assert_eq!(verifier.open(&note).unwrap(), "hello\nworld\n");
        let other = NoteSigner::new("example.com/log", &[8; 32]).unwrap();
        let other = NoteVerifier::parse(&other.verifier_key()).unwrap();
        assert!(matches!(
            other.open(&note),
            Err(NoteError::NotSignedByKey { .. })
        ));
        let altered = note.replacen("world", "worle", 1);
        assert!(matches!(
            verifier.open(&altered),
            Err(NoteError::BadSignature(_))
        ));
    }

    /// The signed note from the C2SP spec and Go's note package tests.
    #[test]
    fn the_go_note_example_verifies() {
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let note = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let text = NoteVerifier::parse(vkey).unwrap().open(note).unwrap();
        assert!(text.starts_with("If you think"));
    }
}
