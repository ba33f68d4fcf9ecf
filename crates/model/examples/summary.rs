//! Prints the layer table of the default network (or of a config JSON given as argument):
//! `cargo run -p model --example summary [-- path/to/config.json]`.

use burn::config::Config;
use model::MnistCnnConfig;

fn main() {
    let config = match std::env::args().nth(1) {
        Some(path) => match MnistCnnConfig::load(&path) {
            Ok(config) => config,
            Err(err) => {
                eprintln!("error: cannot read model config {path}: {err}");
                std::process::exit(1);
            }
        },
        None => MnistCnnConfig::new(),
    };
    println!("{}", config.summary());
}
