//! The test kit: one set of fixtures for the unit tests, the integration tests
//! (`tests/it/`), the fuzz targets (`fuzz/`) and the examples. It tells one story:
//! Legal Daily's report on the national meeting of justice bureaus, republished on
//! news.example.org, and the notice Legal Daily's rights desk files against it.
//!
//! - [`fixtures`]: that story as clients send it (the article a CMS registers, a
//!   complete notice under each regime, a statement of reasons, a counter-notice);
//! - [`domain`]: the same story as the domain layer's unit tests see it (the article
//!   as stored, domain actors);
//! - [`TestServer`]: a server running in this process on 127.0.0.1:0 over a temp data
//!   folder, with a manual clock; it hands out gRPC clients that send a bearer token
//!   ([`Authed`]) and creates principals; [`Desk`] is the cast of a typical lifecycle;
//! - [`smtp`] and [`webhook_receiver`]: a real SMTP server and a real webhook receiver
//!   that notifications are delivered to;
//! - [`nats`]: a real three-node NATS JetStream cluster on 127.0.0.1 whose nodes a
//!   test kills, restarts and pauses;
//! - [`dsa_tdb`] and [`lumen`]: a stand-in of the DSA Transparency Database's
//!   statements endpoint and a checker of Lumen notices, which enforce their rules.
//!
//! Compiled for the crate's own unit tests and with the `testkit` feature, which the
//! crate's dev-dependency on itself turns on for `tests/` and `examples/` (and
//! `fuzz/Cargo.toml` asks for); a release build of the binaries leaves it out.

pub mod domain;
pub mod dsa_tdb;
pub mod fixtures;
mod http;
pub mod lumen;
pub mod nats;
mod server;
pub mod smtp;
pub mod webhook_receiver;

pub use fixtures::start_time;
pub use server::{Authed, Bearer, Desk, TestServer, authed, create_principal};
