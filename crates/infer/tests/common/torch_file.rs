//! Writes a PyTorch `state_dict` file the way `torch.save` does (the ZIP layout of PyTorch 1.6
//! and later), so that the import tests need no Python: `archive/data.pkl` is a protocol-2
//! pickle of an `OrderedDict` whose values are `torch._utils._rebuild_tensor_v2(storage, 0,
//! size, stride, False, OrderedDict())` calls, each storage a persistent id
//! `('storage', torch.FloatStorage, '<n>', 'cpu', numel)` whose little-endian bytes are the
//! entry `archive/data/<n>`.

use std::io::Write;
use std::path::Path;

/// The values of one tensor, in row-major order.
pub enum Values {
    /// float32, `torch.FloatStorage`.
    F32(Vec<f32>),
    /// float64, `torch.DoubleStorage`.
    F64(Vec<f64>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Self::F32(v) => v.len(),
            Self::F64(v) => v.len(),
        }
    }

    fn storage_class(&self) -> &'static str {
        match self {
            Self::F32(_) => "FloatStorage",
            Self::F64(_) => "DoubleStorage",
        }
    }

    fn le_bytes(&self) -> Vec<u8> {
        match self {
            Self::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Self::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// One entry of the state_dict.
pub struct Entry {
    /// Its key (`conv1.weight`).
    pub name: String,
    /// Its size, PyTorch's layout (`[512, 1600]` for `fc1.weight`).
    pub shape: Vec<usize>,
    /// Its values.
    pub values: Values,
}

/// Writes `entries` as `torch.save(OrderedDict(entries), path)` would.
pub fn write_state_dict(path: &Path, entries: &[Entry]) {
    write_archive(path, &pickle(entries), entries);
}

/// Writes `torch.save({key: OrderedDict(entries), "epoch": epoch, "optimizer": {}}, path)`, the
/// usual training checkpoint.
pub fn write_checkpoint(path: &Path, key: &str, entries: &[Entry], epoch: usize) {
    let mut p = vec![op::PROTO, 2, op::EMPTY_DICT, op::MARK];
    string(&mut p, key);
    state_dict(&mut p, entries);
    string(&mut p, "epoch");
    int(&mut p, epoch);
    string(&mut p, "optimizer");
    p.push(op::EMPTY_DICT);
    p.extend([op::SETITEMS, op::STOP]);
    write_archive(path, &p, entries);
}

/// Writes a torch.save ZIP whose `archive/data.pkl` is `pickle`, deflated (so that a pickle
/// bomb is small on disk), and no tensor data.
pub fn write_pickle_only(path: &Path, pickle: &[u8]) {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    zip.start_file("archive/data.pkl", options).unwrap();
    zip.write_all(pickle).unwrap();
    zip.start_file("archive/version", options).unwrap();
    zip.write_all(b"3\n").unwrap();
    zip.finish().unwrap();
}

fn write_archive(path: &Path, pickle: &[u8], entries: &[Entry]) {
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    zip.start_file("archive/data.pkl", options).unwrap();
    zip.write_all(pickle).unwrap();
    zip.start_file("archive/byteorder", options).unwrap();
    zip.write_all(b"little").unwrap();
    for (n, entry) in entries.iter().enumerate() {
        zip.start_file(format!("archive/data/{n}"), options)
            .unwrap();
        zip.write_all(&entry.values.le_bytes()).unwrap();
    }
    zip.start_file("archive/version", options).unwrap();
    zip.write_all(b"3\n").unwrap();
    zip.finish().unwrap();
}

/// The pickle opcodes used (protocol 2).
mod op {
    pub const PROTO: u8 = 0x80;
    pub const EMPTY_DICT: u8 = b'}';
    pub const GLOBAL: u8 = b'c';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const REDUCE: u8 = b'R';
    pub const MARK: u8 = b'(';
    pub const TUPLE: u8 = b't';
    pub const SETITEMS: u8 = b'u';
    pub const BINUNICODE: u8 = b'X';
    pub const BININT: u8 = b'J';
    pub const BINPERSID: u8 = b'Q';
    pub const NEWFALSE: u8 = 0x89;
    pub const STOP: u8 = b'.';
}

fn pickle(entries: &[Entry]) -> Vec<u8> {
    let mut p = vec![op::PROTO, 2];
    state_dict(&mut p, entries);
    p.push(op::STOP);
    p
}

/// Appends the opcodes that leave `OrderedDict(entries)` on the stack.
fn state_dict(p: &mut Vec<u8>, entries: &[Entry]) {
    empty_ordered_dict(p);
    p.push(op::MARK);
    for (n, entry) in entries.iter().enumerate() {
        string(p, &entry.name);
        global(p, "torch._utils", "_rebuild_tensor_v2");
        p.push(op::MARK); // the call's arguments
        p.push(op::MARK); // the storage's persistent id
        string(p, "storage");
        global(p, "torch", entry.values.storage_class());
        string(p, &n.to_string());
        string(p, "cpu");
        int(p, entry.values.len());
        p.extend([op::TUPLE, op::BINPERSID]);
        int(p, 0); // storage offset
        tuple(p, &entry.shape);
        tuple(p, &contiguous_strides(&entry.shape));
        p.push(op::NEWFALSE); // requires_grad
        empty_ordered_dict(p); // backward hooks
        p.extend([op::TUPLE, op::REDUCE]);
    }
    p.push(op::SETITEMS);
}

fn empty_ordered_dict(p: &mut Vec<u8>) {
    global(p, "collections", "OrderedDict");
    p.extend([op::EMPTY_TUPLE, op::REDUCE]);
}

fn global(p: &mut Vec<u8>, module: &str, name: &str) {
    p.push(op::GLOBAL);
    p.extend(format!("{module}\n{name}\n").bytes());
}

fn string(p: &mut Vec<u8>, s: &str) {
    p.push(op::BINUNICODE);
    p.extend((s.len() as u32).to_le_bytes());
    p.extend(s.bytes());
}

fn int(p: &mut Vec<u8>, n: usize) {
    p.push(op::BININT);
    p.extend(i32::try_from(n).unwrap().to_le_bytes());
}

fn tuple(p: &mut Vec<u8>, items: &[usize]) {
    p.push(op::MARK);
    for &item in items {
        int(p, item);
    }
    p.push(op::TUPLE);
}

fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    strides
}
