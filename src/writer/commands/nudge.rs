//! A command that changes nothing: it wakes the writer so that it looks at the store
//! (the server sends one when sled answers a read with an I/O error, so that the writer
//! stalls and reopens sled even when no write comes).

use crate::writer::{Exec, Executed, WriteCommand, WriteError};

/// Wakes the writer; journals nothing.
pub struct Nudge;

impl WriteCommand for Nudge {
    type Reply = ();

    fn execute(&self, _: &Exec<'_>) -> Result<Executed<()>, WriteError> {
        Ok(Executed::unchanged(()))
    }
}
