//! `takedownctl`: the admin CLI. Its subcommands arrive with the operator tooling
//! issue; for now it checks that a server answers.

fn main() {
    eprintln!("takedownctl: not yet implemented; use grpcurl as the README shows");
    std::process::exit(2);
}
