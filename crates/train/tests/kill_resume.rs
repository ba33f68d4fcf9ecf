//! The kill test: the `train` binary is killed with SIGKILL (`Child::kill`) at several points of
//! a run (during an epoch, while a checkpoint is being written, while `history.jsonl` is being
//! rewritten, while the model is being exported), then resumed with `--resume`. After the
//! resume every file in the run directory must parse, `history.jsonl` must list epochs
//! `1..=EPOCHS` exactly once, `metrics.json` must count them once, and the exported model must
//! load through inference's loader.
//!
//! The kill points are found by polling the run directory (no test hook in the binary): the
//! checkpoint and history kills fire the moment a scratch file or a new file of the targeted
//! epoch appears, so they land inside the write or between the three checkpoint files. Which
//! state each kill actually caught is printed (`cargo test -p train --test kill_resume --
//! --nocapture`).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use burn::config::Config;
use burn::lr_scheduler::LrSchedulerRecord;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::train::metric::NumericEntry;
use train::TrainingConfig;
use train::read_history;

const EPOCHS: usize = 3;
/// No single run of this test may take longer (a hang is a failure, not a stuck CI job).
const RUN_LIMIT: Duration = Duration::from_secs(180);

struct Fixture {
    _root: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    config: PathBuf,
}

/// Synthetic digits big enough that an epoch lasts long enough to be killed inside, and a
/// tiny network.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    data::synthetic::write_idx_files(&data::synthetic::mnist(1600, 100), &data).unwrap();
    let config = TrainingConfig::new(
        model::MnistCnnConfig::new()
            .with_conv1_filters(4)
            .with_conv2_filters(8)
            .with_hidden_units(16),
    )
    .with_epochs(EPOCHS)
    .with_batch_size(16)
    .with_valid_size(100)
    .with_seed(7);
    let config_path = root.join("config.json");
    config.save(&config_path).unwrap();
    Fixture {
        _root: dir,
        root,
        data,
        config: config_path,
    }
}

impl Fixture {
    fn command(&self, run: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_train"));
        command
            .args(["--data-dir", self.data.to_str().unwrap()])
            .args(["--artifact-dir", run.to_str().unwrap()])
            .args(["--device", "cpu", "--plain"])
            .env_remove("MNIST_DIR");
        command
    }

    fn start(&self, run: &Path) -> Child {
        self.command(run)
            .args(["--config", self.config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn resume(&self, run: &Path) -> Output {
        test_support::output_within(self.command(run).arg("--resume"), RUN_LIMIT)
    }
}

/// Where a run is killed.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// `delay` after Burn starts logging epoch `epoch`'s training metrics, once the previous
    /// epoch's checkpoint is complete (a kill before that is what `CheckpointWrite` covers).
    DuringEpoch { epoch: usize, delay_ms: u64 },
    /// As soon as a checkpoint file of `epoch` (scratch or final) appears.
    CheckpointWrite { epoch: usize },
    /// As soon as `history.jsonl` is being rewritten for the `lines + 1`th epoch.
    HistoryWrite { lines: usize },
    /// As soon as `model/` (the export) appears.
    Export,
}

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// What the run directory shows at this instant, if it is the kill point; with a description.
fn reached(run: &Path, point: KillPoint) -> Option<String> {
    match point {
        KillPoint::DuringEpoch { epoch, .. } => (run.join(format!("train/epoch-{epoch}")).is_dir()
            && (epoch == 1 || checkpoint_complete(run, epoch - 1)))
        .then(|| format!("epoch {epoch} running")),
        KillPoint::CheckpointWrite { epoch } => {
            let tag = format!("-{epoch}.bpk");
            let files = names(&run.join("checkpoint"));
            let hit: Vec<&String> = files.iter().filter(|n| n.contains(&tag)).collect();
            (!hit.is_empty()).then(|| format!("checkpoint {epoch}: {hit:?}"))
        }
        KillPoint::HistoryWrite { lines } => {
            let now = std::fs::read_to_string(run.join("history.jsonl"))
                .map(|t| t.lines().count())
                .unwrap_or(0);
            let scratch = names(run)
                .into_iter()
                .find(|n| n.starts_with(".history.jsonl."));
            match scratch {
                // Being rewritten from `lines` lines to `lines + 1`.
                Some(scratch) if now == lines => {
                    Some(format!("history scratch file {scratch} ({now} lines)"))
                }
                // Missed the write itself: just after it.
                _ if now > lines => Some(format!("history just rewritten ({now} lines)")),
                _ => None,
            }
        }
        KillPoint::Export => run
            .join("model")
            .is_dir()
            .then(|| format!("exporting: model/ holds {:?}", names(&run.join("model")))),
    }
}

/// Runs a fresh training into `run` and SIGKILLs it at `point`. Returns what the kill caught,
/// or `None` if the run finished before the point was seen.
fn kill_at(fixture: &Fixture, run: &Path, point: KillPoint) -> Option<String> {
    let mut child = fixture.start(run);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the run failed before its kill point");
            return None;
        }
        assert!(start.elapsed() < RUN_LIMIT, "no kill point {point:?}");
        if let Some(what) = reached(run, point) {
            if let KillPoint::DuringEpoch { delay_ms, .. } = point {
                std::thread::sleep(Duration::from_millis(delay_ms));
            }
            // SIGKILL on Unix: no destructor, no flush, no cleanup runs.
            child.kill().unwrap();
            child.wait().unwrap();
            let mut left = names(&run.join("checkpoint"));
            left.sort();
            return Some(format!("{what}; checkpoint/ then held {left:?}"));
        }
        // Polled as fast as possible for the short windows (a write takes milliseconds).
        std::thread::yield_now();
    }
}

/// Every file of a finished run parses, `history.jsonl` lists each epoch once, the metrics
/// count them once, and the model loads.
fn check_complete_run(run: &Path) {
    let mut files = Vec::new();
    collect_files(run, &mut files);
    for file in &files {
        check_file(run, file);
    }
    let history = read_history(&run.join("history.jsonl")).unwrap();
    let epochs: Vec<usize> = history.iter().map(|r| r.epoch).collect();
    assert_eq!(
        epochs,
        (1..=EPOCHS).collect::<Vec<_>>(),
        "{}",
        run.display()
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["epochs"], EPOCHS, "{metrics}");
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("model/metrics.json")).unwrap())
            .unwrap();
    assert_eq!(model, metrics);
    let predictor = infer::Predictor::load(run.join("model"), &burn::tensor::Device::flex());
    assert!(
        predictor.is_ok(),
        "{}: {:?}",
        run.display(),
        predictor.err()
    );
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// `file` is whole: parsed by what reads it.
fn check_file(run: &Path, file: &Path) {
    let name = file.file_name().unwrap().to_str().unwrap();
    let shown = file.strip_prefix(run).unwrap().display().to_string();
    let text = || std::fs::read_to_string(file).unwrap();
    assert!(!name.ends_with(".tmp"), "scratch file left behind: {shown}");
    match file.extension().and_then(|e| e.to_str()) {
        Some("json") => {
            let parsed = serde_json::from_str::<serde_json::Value>(&text());
            assert!(parsed.is_ok(), "{shown}: {parsed:?}");
        }
        Some("jsonl") => {
            read_history(file).unwrap();
        }
        Some("bpk") if name.starts_with("optim-") => {
            OptimizerRecord::load(file).unwrap();
        }
        Some("bpk") if name.starts_with("scheduler-") => {
            LrSchedulerRecord::load(file).unwrap();
        }
        Some("bpk") => {
            ModuleRecord::load(file).unwrap();
        }
        // Burn's own text log of the run: free text, appended by every process.
        Some("log") if name == "experiment.log" => {
            assert!(std::fs::read(file).is_ok(), "{shown}");
        }
        // Burn's metric logs: one entry per line.
        Some("log") => {
            for line in text().lines().filter(|l| !l.is_empty()) {
                let entry = NumericEntry::deserialize(line);
                assert!(entry.is_ok(), "{shown}: '{line}'");
            }
        }
        Some("png") => {
            let decoder =
                png::Decoder::new(std::io::BufReader::new(std::fs::File::open(file).unwrap()));
            let mut reader = decoder.read_info().unwrap();
            let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
            reader.next_frame(&mut buffer).unwrap();
        }
        _ => panic!("unexpected file in the run directory: {shown}"),
    }
}

/// Whether `epoch` has all three checkpoint files (model, optimiser, scheduler).
fn checkpoint_complete(run: &Path, epoch: usize) -> bool {
    let files = names(&run.join("checkpoint"));
    ["model", "optim", "scheduler"]
        .iter()
        .all(|kind| files.contains(&format!("{kind}-{epoch}.bpk")))
}

/// Whether some epoch has a complete checkpoint.
fn has_complete_checkpoint(run: &Path) -> bool {
    (1..=EPOCHS).any(|epoch| checkpoint_complete(run, epoch))
}

/// Resumes `run` until it completes (a resumed run killed again is resumed again by the
/// caller), checking that a run killed before its first checkpoint says so in one line.
fn resume_and_check(fixture: &Fixture, run: &Path) -> &'static str {
    let has_checkpoint = has_complete_checkpoint(run);
    let out = fixture.resume(run);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if !has_checkpoint {
        // Nothing to continue from: a clear error, the configuration intact.
        assert!(!out.status.success());
        assert!(stderr.contains("no checkpoint to resume from"), "{stderr}");
        let mut files = Vec::new();
        collect_files(run, &mut files);
        for file in files.iter().filter(|f| {
            let name = f.file_name().unwrap().to_str().unwrap();
            name.ends_with(".json") || name.ends_with(".jsonl")
        }) {
            check_file(run, file);
        }
        TrainingConfig::load(run.join("config.json")).unwrap();
        return "no checkpoint yet: resume refused with a clear error";
    }
    assert!(out.status.success(), "{}: {stderr}", run.display());
    check_complete_run(run);
    "resumed, complete, every file parses"
}

#[test]
fn runs_killed_anywhere_resume_to_a_complete_run() {
    let fixture = fixture();
    let mut points = vec![
        KillPoint::DuringEpoch {
            epoch: 1,
            delay_ms: 0,
        },
        KillPoint::Export,
    ];
    for epoch in 1..=EPOCHS {
        points.push(KillPoint::CheckpointWrite { epoch });
        points.push(KillPoint::HistoryWrite { lines: epoch - 1 });
    }
    for (epoch, delay_ms) in [(2, 0), (2, 150), (3, 60)] {
        points.push(KillPoint::DuringEpoch { epoch, delay_ms });
    }
    let mut report = Vec::new();
    for (trial, point) in points.iter().enumerate() {
        let run = fixture.root.join(format!("run-{trial}"));
        let caught = kill_at(&fixture, &run, *point);
        let outcome = match &caught {
            Some(_) => resume_and_check(&fixture, &run),
            None => {
                check_complete_run(&run);
                "finished before the kill point (checked as complete)"
            }
        };
        report.push(format!(
            "{trial:2}: {point:?}: killed at [{}] -> {outcome}",
            caught.as_deref().unwrap_or("-")
        ));
    }

    // Killed twice: during the first run's epoch 2, then during the resumed run's checkpoint
    // of epoch 3.
    let run = fixture.root.join("run-twice");
    let first = kill_at(
        &fixture,
        &run,
        KillPoint::DuringEpoch {
            epoch: 2,
            delay_ms: 0,
        },
    );
    assert!(first.is_some(), "the first kill point was missed");
    assert!(
        has_complete_checkpoint(&run),
        "{:?}",
        names(&run.join("checkpoint"))
    );
    let mut child = fixture
        .command(&run)
        .arg("--resume")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let second = loop {
        if child.try_wait().unwrap().is_some() {
            break None;
        }
        assert!(start.elapsed() < RUN_LIMIT);
        if let Some(what) = reached(&run, KillPoint::CheckpointWrite { epoch: 3 }) {
            child.kill().unwrap();
            child.wait().unwrap();
            break Some(what);
        }
        std::thread::yield_now();
    };
    let outcome = resume_and_check(&fixture, &run);
    report.push(format!(
        "twice: killed at [{}] then at [{}] -> {outcome}",
        first.as_deref().unwrap_or("-"),
        second.as_deref().unwrap_or("- (finished)")
    ));

    eprintln!(
        "kill test ({} trials):\n{}",
        report.len(),
        report.join("\n")
    );
    let killed = report
        .iter()
        .filter(|r| !r.contains("finished before"))
        .count();
    assert!(
        killed >= report.len() - 2,
        "too few kills landed:\n{}",
        report.join("\n")
    );
}
