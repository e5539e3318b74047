//! `takedownctl`: the operators' CLI over the takedown gRPC API. The code lives in
//! `takedown::cli`; `takedownctl --help` lists the subcommands.

fn main() -> std::process::ExitCode {
    takedown::cli::main()
}
