//! libfnn for Rust: make a trained neural network forget chosen training data.
//!
//! A safe layer over [`fnn_sys`]: owned handles freed on `Drop`, `Result`s
//! whose [`Error`] carries the status and the library's message, slices in
//! and `Vec`s out. Methods, presets, option keys, their domains and every
//! other name come from the library at run time, so what a newer library
//! adds is usable here by name without a new crate. `include/fnn/fnn.h` is
//! the specification; docs/BINDINGS.md describes this crate.
//!
//! Threads: every handle is `Send` (the header lets a handle be used by one
//! thread at a time); none is `Sync`, because a failing call writes the
//! handle's message, which another thread could be reading. Progress
//! closures that return `true` stop the call (`Error::Cancelled`); a panic in
//! one stops the call too and is resumed once it has returned.
#![deny(unsafe_op_in_unsafe_fn)]

use fnn_sys as sys;
use std::any::Any;
use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr;

// ---- errors --------------------------------------------------------------------

/// A failed call: one variant per status code of the header, each with the
/// message of the handle (what exactly was wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    Null(String),
    Invalid(String),
    NoMem(String),
    Io(String),
    Format(String),
    Truncated(String),
    Checksum(String),
    Version(String),
    Shape(String),
    Range(String),
    Spec(String),
    Numeric(String),
    Cancelled(String),
    State(String),
    Duplicate(String),
    Empty(String),
    /// A status this crate does not know (from a newer library).
    Other(i32, String),
    /// A name the library does not know (option key, method, split, ...);
    /// the message lists the names it knows.
    UnknownName(String),
}

impl Error {
    fn from_status(status: c_int, message: String) -> Error {
        match status {
            sys::FNN_E_NULL => Error::Null(message),
            sys::FNN_E_INVALID => Error::Invalid(message),
            sys::FNN_E_NOMEM => Error::NoMem(message),
            sys::FNN_E_IO => Error::Io(message),
            sys::FNN_E_FORMAT => Error::Format(message),
            sys::FNN_E_TRUNCATED => Error::Truncated(message),
            sys::FNN_E_CHECKSUM => Error::Checksum(message),
            sys::FNN_E_VERSION => Error::Version(message),
            sys::FNN_E_SHAPE => Error::Shape(message),
            sys::FNN_E_RANGE => Error::Range(message),
            sys::FNN_E_SPEC => Error::Spec(message),
            sys::FNN_E_NUMERIC => Error::Numeric(message),
            sys::FNN_E_CANCELLED => Error::Cancelled(message),
            sys::FNN_E_STATE => Error::State(message),
            sys::FNN_E_DUPLICATE => Error::Duplicate(message),
            sys::FNN_E_EMPTY => Error::Empty(message),
            s => Error::Other(s, message),
        }
    }

    /// The status code (`FNN_E_*`); an unknown name counts as FNN_E_INVALID.
    pub fn status(&self) -> i32 {
        match self {
            Error::Null(_) => sys::FNN_E_NULL,
            Error::Invalid(_) | Error::UnknownName(_) => sys::FNN_E_INVALID,
            Error::NoMem(_) => sys::FNN_E_NOMEM,
            Error::Io(_) => sys::FNN_E_IO,
            Error::Format(_) => sys::FNN_E_FORMAT,
            Error::Truncated(_) => sys::FNN_E_TRUNCATED,
            Error::Checksum(_) => sys::FNN_E_CHECKSUM,
            Error::Version(_) => sys::FNN_E_VERSION,
            Error::Shape(_) => sys::FNN_E_SHAPE,
            Error::Range(_) => sys::FNN_E_RANGE,
            Error::Spec(_) => sys::FNN_E_SPEC,
            Error::Numeric(_) => sys::FNN_E_NUMERIC,
            Error::Cancelled(_) => sys::FNN_E_CANCELLED,
            Error::State(_) => sys::FNN_E_STATE,
            Error::Duplicate(_) => sys::FNN_E_DUPLICATE,
            Error::Empty(_) => sys::FNN_E_EMPTY,
            Error::Other(s, _) => *s,
        }
    }

    /// The message: what exactly was wrong.
    pub fn message(&self) -> &str {
        match self {
            Error::Null(m)
            | Error::Invalid(m)
            | Error::NoMem(m)
            | Error::Io(m)
            | Error::Format(m)
            | Error::Truncated(m)
            | Error::Checksum(m)
            | Error::Version(m)
            | Error::Shape(m)
            | Error::Range(m)
            | Error::Spec(m)
            | Error::Numeric(m)
            | Error::Cancelled(m)
            | Error::State(m)
            | Error::Duplicate(m)
            | Error::Empty(m)
            | Error::Other(_, m)
            | Error::UnknownName(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (status {}: {})",
            self.message(),
            self.status(),
            strerror(self.status())
        )
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The library's description of a status code.
pub fn strerror(status: i32) -> String {
    text(unsafe { sys::fnn_strerror(status) })
}

fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// A caller buffer for constructor messages.
struct ErrBuf([c_char; 512]);

impl ErrBuf {
    fn new() -> ErrBuf {
        ErrBuf([0; 512])
    }
    fn ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn check(&self, status: c_int) -> Result<()> {
        check(status, || text(self.0.as_ptr()))
    }
}

fn check<F: FnOnce() -> String>(status: c_int, message: F) -> Result<()> {
    if status == sys::FNN_OK {
        Ok(())
    } else {
        Err(Error::from_status(status, message()))
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Invalid(format!("{:?} holds a NUL byte", s)))
}

fn path_cstring(p: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::Invalid(format!("{} holds a NUL byte", p.display())))
}

/// Handles print their kind and address.
macro_rules! debug_handle {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:p})", stringify!($t), self.raw)
            }
        }
    )*};
}

debug_handle!(TrainOptions, ForgetOptions, Model, Report);

impl<'a> fmt::Debug for Dataset<'a> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dataset({} samples of {:?})", self.len(), self.shape())
    }
}

impl<'a> fmt::Debug for ForgetRequest<'a> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ForgetRequest({}, {} samples)", self.kind(), self.len())
    }
}

impl<'a> fmt::Debug for Attack<'a> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Attack({} candidates, {} shadows)",
            self.n,
            self.shadows_trained()
        )
    }
}

// ---- versions and names -------------------------------------------------------------

/// The version of the library actually loaded.
pub fn library_version() -> String {
    text(unsafe { sys::fnn_version_string() })
}

/// The kinds of names of `fnn_name()` (enum fnn_names; pinned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Names {
    Optimizer = sys::FNN_NAMES_OPTIMIZER,
    LrSchedule = sys::FNN_NAMES_LR_SCHEDULE,
    Policy = sys::FNN_NAMES_POLICY,
    Method = sys::FNN_NAMES_METHOD,
    RequestKind = sys::FNN_NAMES_REQUEST_KIND,
    PhaseKind = sys::FNN_NAMES_PHASE_KIND,
    Preset = sys::FNN_NAMES_PRESET,
    Split = sys::FNN_NAMES_SPLIT,
    TrainKey = sys::FNN_NAMES_TRAIN_KEY,
    ForgetKey = sys::FNN_NAMES_FORGET_KEY,
    ReportKey = sys::FNN_NAMES_REPORT_KEY,
    PhaseKey = sys::FNN_NAMES_PHASE_KEY,
    HistoryKey = sys::FNN_NAMES_HISTORY_KEY,
    MembershipKey = sys::FNN_NAMES_MEMBERSHIP_KEY,
    Dtype = sys::FNN_NAMES_DTYPE,
    AttackKey = sys::FNN_NAMES_ATTACK_KEY,
}

/// The names of an enum of the API, in value order (value = position).
pub fn names(kind: Names) -> Vec<String> {
    let k = kind as c_int;
    let n = unsafe { sys::fnn_names_count(k) };
    (0..n)
        .map(|v| text(unsafe { sys::fnn_name(k, v as c_int) }))
        .collect()
}

/// The one-line description of value `value` of `kind`.
pub fn name_help(kind: Names, value: i32) -> Option<String> {
    let p = unsafe { sys::fnn_name_help(kind as c_int, value) };
    if p.is_null() {
        None
    } else {
        Some(text(p))
    }
}

/// The name of value `value` of `kind`, if the library has one.
pub fn name_of(kind: Names, value: i32) -> Option<String> {
    let p = unsafe { sys::fnn_name(kind as c_int, value) };
    if p.is_null() {
        None
    } else {
        Some(text(p))
    }
}

/// The value of `name` in `kind` ('_' may stand for '-').
pub fn lookup(kind: Names, name: &str) -> Result<i32> {
    let mut v: c_int = 0;
    for candidate in [name.to_string(), name.replace('_', "-")] {
        let c = cstring(&candidate)?;
        if unsafe { sys::fnn_name_lookup(kind as c_int, c.as_ptr(), &mut v) } == sys::FNN_OK {
            return Ok(v);
        }
    }
    Err(Error::UnknownName(format!(
        "unknown {:?} name {:?}; valid: {}",
        kind,
        name,
        names(kind).join(", ")
    )))
}

/// The unlearning methods of the library's method table.
pub fn methods() -> Vec<String> {
    names(Names::Method)
}

/// An option key and its domain, as the library states them.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub id: i32,
    pub lo: f64,
    pub hi: f64,
    /// `FNN_BOUND_*` flags.
    pub flags: u32,
    /// The kind of names of a named key's values, else -1.
    pub names_kind: i32,
    pub help: String,
    /// The domain in words: "an integer in 1..65536", "sgd or adam".
    pub domain: String,
}

impl Key {
    pub fn integer(&self) -> bool {
        self.flags & sys::FNN_BOUND_INTEGER != 0
    }
    pub fn named(&self) -> bool {
        self.flags & sys::FNN_BOUND_NAMED != 0
    }
    pub fn deprecated(&self) -> bool {
        self.flags & sys::FNN_BOUND_DEPRECATED != 0
    }
}

type BoundsFn = unsafe extern "C" fn(c_int, *mut f64, *mut f64, *mut u32, *mut c_int) -> c_int;
type DescribeFn = unsafe extern "C" fn(c_int, *mut c_char, usize) -> usize;

fn keys_of(kind: Names, bounds: BoundsFn, describe: DescribeFn) -> Vec<Key> {
    let k = kind as c_int;
    let n = unsafe { sys::fnn_names_count(k) };
    let mut out = Vec::new();
    for v in 0..n as c_int {
        let (mut lo, mut hi, mut flags, mut nk) = (0.0, 0.0, 0u32, 0 as c_int);
        if unsafe { bounds(v, &mut lo, &mut hi, &mut flags, &mut nk) } != sys::FNN_OK {
            continue;
        }
        let size = unsafe { describe(v, ptr::null_mut(), 0) } + 1;
        let mut buf = vec![0 as c_char; size];
        unsafe { describe(v, buf.as_mut_ptr(), size) };
        out.push(Key {
            name: text(unsafe { sys::fnn_name(k, v) }),
            id: v,
            lo,
            hi,
            flags,
            names_kind: nk,
            help: text(unsafe { sys::fnn_name_help(k, v) }),
            domain: text(buf.as_ptr()),
        });
    }
    out
}

/// Training option keys.
pub fn train_keys() -> Vec<Key> {
    keys_of(
        Names::TrainKey,
        sys::fnn_train_key_bounds,
        sys::fnn_train_key_describe,
    )
}

/// Unlearning option keys.
pub fn forget_keys() -> Vec<Key> {
    keys_of(
        Names::ForgetKey,
        sys::fnn_forget_key_bounds,
        sys::fnn_forget_key_describe,
    )
}

/// Attack option keys.
pub fn attack_keys() -> Vec<Key> {
    keys_of(
        Names::AttackKey,
        sys::fnn_attack_key_bounds,
        sys::fnn_attack_key_describe,
    )
}

// ---- progress ---------------------------------------------------------------------------

/// A closure called from C, and a panic it raised.
struct Callback<F> {
    f: F,
    panic: Option<Box<dyn Any + Send + 'static>>,
}

impl<F> Callback<F> {
    fn new(f: F) -> Callback<F> {
        Callback { f, panic: None }
    }

    /// Runs the closure: 1 (stop) when it returns true or panics.
    fn call<G: FnOnce(&mut F) -> bool>(&mut self, g: G) -> c_int {
        if self.panic.is_some() {
            return 1;
        }
        let f = &mut self.f;
        match panic::catch_unwind(AssertUnwindSafe(|| g(f))) {
            Ok(stop) => stop as c_int,
            Err(payload) => {
                self.panic = Some(payload);
                1
            }
        }
    }

    /// Resumes a panic of the closure, else passes the result on.
    fn finish<T>(self, result: Result<T>) -> Result<T> {
        if let Some(payload) = self.panic {
            panic::resume_unwind(payload);
        }
        result
    }
}

/// What a training progress closure is told after every step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainProgress {
    pub epoch: u32,
    pub epochs: u32,
    /// 1-based step within the epoch.
    pub batch: usize,
    pub batches: usize,
    /// Mean training loss of the epoch so far.
    pub loss: f32,
}

unsafe extern "C" fn train_trampoline<F: FnMut(TrainProgress) -> bool>(
    user: *mut c_void,
    epoch: u32,
    epochs: u32,
    batch: usize,
    batches: usize,
    loss: f32,
) -> c_int {
    let cb = unsafe { &mut *(user as *mut Callback<F>) };
    cb.call(|f| {
        f(TrainProgress {
            epoch,
            epochs,
            batch,
            batches,
            loss,
        })
    })
}

/// What an unlearning progress closure is told after every step and phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ForgetProgress {
    /// The phase under way (`names(Names::PhaseKind)`).
    pub phase: String,
    pub step: u64,
    /// FLOPs so far, and the most the run expects (0 when unknown).
    pub done: f64,
    pub total: f64,
}

unsafe extern "C" fn forget_trampoline<F: FnMut(ForgetProgress) -> bool>(
    user: *mut c_void,
    phase: c_int,
    step: u64,
    done: f64,
    total: f64,
    _so_far: *const sys::fnn_forget_report,
) -> c_int {
    let cb = unsafe { &mut *(user as *mut Callback<F>) };
    let phase = name_of(Names::PhaseKind, phase).unwrap_or_else(|| phase.to_string());
    cb.call(|f| {
        f(ForgetProgress {
            phase,
            step,
            done,
            total,
        })
    })
}

unsafe extern "C" fn attack_trampoline<F: FnMut(u32, u32) -> bool + Send>(
    user: *mut c_void,
    done: u32,
    shadows: u32,
) -> c_int {
    // The library calls from its training threads, one call at a time.
    let cb = unsafe { &mut *(user as *mut Callback<F>) };
    cb.call(|f| f(done, shadows))
}

// ---- data sets ----------------------------------------------------------------------------

/// Caller feature arrays: bytes (scaled as IDX pixels, `(float)b * (1.0f /
/// 255.0f)`) or floats (as given).
#[derive(Debug, Clone, Copy)]
pub enum Features<'a> {
    U8(&'a [u8]),
    F32(&'a [f32]),
}

impl<'a> Features<'a> {
    fn dtype(&self) -> Result<c_int> {
        lookup(
            Names::Dtype,
            match self {
                Features::U8(_) => "uint8",
                Features::F32(_) => "float32",
            },
        )
    }
    fn ptr(&self) -> *const c_void {
        match self {
            Features::U8(x) => x.as_ptr() as *const c_void,
            Features::F32(x) => x.as_ptr() as *const c_void,
        }
    }
    fn len(&self) -> usize {
        match self {
            Features::U8(x) => x.len(),
            Features::F32(x) => x.len(),
        }
    }
}

/// Per-sample shape: rows x cols x channels, channels last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub rows: u32,
    pub cols: u32,
    pub channels: u32,
}

impl Shape {
    pub fn new(rows: u32, cols: u32, channels: u32) -> Shape {
        Shape {
            rows,
            cols,
            channels,
        }
    }
    pub fn dim(&self) -> usize {
        self.rows as usize * self.cols as usize * self.channels as usize
    }
}

/// An immutable collection of samples. `'a` is the lifetime of borrowed
/// features (`Dataset::borrow`): the data set, its views, and the requests
/// and attacks made over them cannot outlive the slice. Loaded and copied
/// data sets are `Dataset<'static>`.
pub struct Dataset<'a> {
    raw: *mut sys::fnn_dataset,
    _features: PhantomData<&'a [u8]>,
}

unsafe impl<'a> Send for Dataset<'a> {}

impl<'a> Drop for Dataset<'a> {
    fn drop(&mut self) {
        unsafe { sys::fnn_dataset_free(self.raw) }
    }
}

fn samples(features: &Features<'_>, shape: Shape) -> Result<usize> {
    let dim = shape.dim();
    if dim == 0 || features.len() % dim != 0 {
        return Err(Error::Shape(format!(
            "{} features are not samples of {}x{}x{}",
            features.len(),
            shape.rows,
            shape.cols,
            shape.channels
        )));
    }
    Ok(features.len() / dim)
}

impl Dataset<'static> {
    /// Loads an IDX image file and an IDX label file (raw or gzip).
    pub fn load_idx<P: AsRef<Path>, Q: AsRef<Path>>(
        images: P,
        labels: Q,
        num_classes: u32,
    ) -> Result<Dataset<'static>> {
        let (i, l) = (
            path_cstring(images.as_ref())?,
            path_cstring(labels.as_ref())?,
        );
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let status = unsafe {
            sys::fnn_dataset_load_idx(
                &mut out,
                i.as_ptr(),
                l.as_ptr(),
                num_classes,
                err.ptr(),
                err.len(),
            )
        };
        err.check(status)?;
        Ok(Dataset {
            raw: out,
            _features: PhantomData,
        })
    }

    /// Loads the split (`names(Names::Split)`: "train", "test") of a
    /// directory laid out like MNIST.
    pub fn load_dir<P: AsRef<Path>>(dir: P, split: &str) -> Result<Dataset<'static>> {
        let d = path_cstring(dir.as_ref())?;
        let s = lookup(Names::Split, split)?;
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let status =
            unsafe { sys::fnn_dataset_load_dir(&mut out, d.as_ptr(), s, err.ptr(), err.len()) };
        err.check(status)?;
        Ok(Dataset {
            raw: out,
            _features: PhantomData,
        })
    }

    /// A data set holding a copy of the features (bytes stay bytes).
    pub fn copy(
        features: Features<'_>,
        labels: Option<&[i32]>,
        shape: Shape,
        num_classes: u32,
    ) -> Result<Dataset<'static>> {
        make(
            sys::fnn_dataset_from_arrays_v2,
            features,
            labels,
            shape,
            num_classes,
        )
    }
}

type ArraysFn = unsafe extern "C" fn(
    *mut *mut sys::fnn_dataset,
    *const c_void,
    c_int,
    *const i32,
    usize,
    u32,
    u32,
    u32,
    u32,
    *mut c_char,
    usize,
) -> c_int;

fn make<'a>(
    f: ArraysFn,
    features: Features<'_>,
    labels: Option<&[i32]>,
    shape: Shape,
    num_classes: u32,
) -> Result<Dataset<'a>> {
    let n = samples(&features, shape)?;
    if let Some(y) = labels {
        if y.len() != n {
            return Err(Error::Shape(format!(
                "{} labels for {} samples",
                y.len(),
                n
            )));
        }
    }
    let mut out = ptr::null_mut();
    let mut err = ErrBuf::new();
    let status = unsafe {
        f(
            &mut out,
            features.ptr(),
            features.dtype()?,
            labels.map_or(ptr::null(), |y| y.as_ptr()),
            n,
            shape.rows,
            shape.cols,
            shape.channels,
            num_classes,
            err.ptr(),
            err.len(),
        )
    };
    err.check(status)?;
    Ok(Dataset {
        raw: out,
        _features: PhantomData,
    })
}

impl<'a> Dataset<'a> {
    /// A data set over `features` without copying them (labels, optional,
    /// are copied). Without labels it can only be predicted on.
    pub fn borrow(
        features: Features<'a>,
        labels: Option<&[i32]>,
        shape: Shape,
        num_classes: u32,
    ) -> Result<Dataset<'a>> {
        make(
            sys::fnn_dataset_borrow_arrays,
            features,
            labels,
            shape,
            num_classes,
        )
    }

    fn errmsg(&self) -> String {
        text(unsafe { sys::fnn_dataset_errmsg(self.raw) })
    }

    pub fn len(&self) -> usize {
        unsafe { sys::fnn_dataset_size(self.raw) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of classes (0 without labels).
    pub fn num_classes(&self) -> u32 {
        unsafe { sys::fnn_dataset_num_classes(self.raw) }
    }

    pub fn has_labels(&self) -> bool {
        unsafe { sys::fnn_dataset_has_labels(self.raw) == 1 }
    }

    pub fn shape(&self) -> Shape {
        let mut s = Shape::new(0, 0, 0);
        unsafe { sys::fnn_dataset_shape(self.raw, &mut s.rows, &mut s.cols, &mut s.channels) };
        s
    }

    pub fn labels(&self) -> Result<Vec<i32>> {
        let mut out = vec![0i32; self.len()];
        check(
            unsafe { sys::fnn_dataset_labels(self.raw, out.as_mut_ptr(), out.len()) },
            || self.errmsg(),
        )?;
        Ok(out)
    }

    /// The features as a model sees them (scaled and normalised).
    pub fn features(&self) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.len() * self.shape().dim()];
        check(
            unsafe { sys::fnn_dataset_features(self.raw, out.as_mut_ptr(), out.len()) },
            || self.errmsg(),
        )?;
        Ok(out)
    }

    /// A view of the samples at `indices`, in that order.
    pub fn subset(&self, indices: &[u32]) -> Result<Dataset<'a>> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::fnn_dataset_subset(self.raw, indices.as_ptr(), indices.len(), &mut out) },
            || self.errmsg(),
        )?;
        Ok(Dataset {
            raw: out,
            _features: PhantomData,
        })
    }

    /// Two views after a seeded shuffle.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Dataset<'a>, Dataset<'a>)> {
        let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
        check(
            unsafe { sys::fnn_dataset_split(self.raw, fraction, seed, &mut a, &mut b) },
            || self.errmsg(),
        )?;
        Ok((
            Dataset {
                raw: a,
                _features: PhantomData,
            },
            Dataset {
                raw: b,
                _features: PhantomData,
            },
        ))
    }

    /// x' = (x - mean[c]) / std[c] per channel.
    pub fn set_normalization(&mut self, mean: &[f32], std: &[f32]) -> Result<()> {
        if mean.len() != std.len() {
            return Err(Error::Shape(format!(
                "{} means, {} deviations",
                mean.len(),
                std.len()
            )));
        }
        check(
            unsafe {
                sys::fnn_dataset_set_normalization(
                    self.raw,
                    mean.as_ptr(),
                    std.as_ptr(),
                    mean.len(),
                )
            },
            || self.errmsg(),
        )
    }

    /// Per-channel mean and standard deviation of the scaled features.
    pub fn channel_stats(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        let c = self.shape().channels as usize;
        let (mut m, mut s) = (vec![0f32; c], vec![0f32; c]);
        check(
            unsafe { sys::fnn_dataset_channel_stats(self.raw, m.as_mut_ptr(), s.as_mut_ptr(), c) },
            || self.errmsg(),
        )?;
        Ok((m, s))
    }
}

// ---- options --------------------------------------------------------------------------------

fn key_id(kind: Names, name: &str) -> Result<i32> {
    lookup(kind, name).map_err(|_| {
        Error::UnknownName(format!(
            "unknown option {:?}; options: {}",
            name,
            names(kind).join(", ")
        ))
    })
}

/// Training options by the library's key names: `opts.set("lr", 0.05)?`.
pub struct TrainOptions {
    raw: *mut sys::fnn_train_options,
    owned: bool,
}

unsafe impl Send for TrainOptions {}

impl Drop for TrainOptions {
    fn drop(&mut self) {
        if self.owned {
            unsafe { sys::fnn_train_options_free(self.raw) }
        }
    }
}

impl TrainOptions {
    /// The library's defaults.
    pub fn new() -> Result<TrainOptions> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::fnn_train_options_create(&mut out) },
            String::new,
        )?;
        Ok(TrainOptions {
            raw: out,
            owned: true,
        })
    }

    /// The recipe of a preset architecture (`names(Names::Preset)`).
    pub fn preset(name: &str) -> Result<TrainOptions> {
        lookup(Names::Preset, name)?;
        let o = TrainOptions::new()?;
        let c = cstring(name)?;
        check(
            unsafe { sys::fnn_train_options_preset(o.raw, c.as_ptr()) },
            || o.errmsg(),
        )?;
        Ok(o)
    }

    /// Sets a key to a number (a named key takes its value's number).
    pub fn set(&mut self, name: &str, value: f64) -> Result<&mut TrainOptions> {
        self.set_key(key_id(Names::TrainKey, name)?, value)?;
        Ok(self)
    }

    /// Sets an integer key from 64 bits (a seed).
    pub fn set_u64(&mut self, name: &str, value: u64) -> Result<&mut TrainOptions> {
        self.set_key_u64(key_id(Names::TrainKey, name)?, value)?;
        Ok(self)
    }
}

/// The inner training options of a `ForgetOptions`, borrowed from it.
pub struct TrainOptionsMut<'a> {
    inner: TrainOptions,
    _owner: PhantomData<&'a mut ForgetOptions>,
}

impl<'a> Deref for TrainOptionsMut<'a> {
    type Target = TrainOptions;
    fn deref(&self) -> &TrainOptions {
        &self.inner
    }
}

impl<'a> DerefMut for TrainOptionsMut<'a> {
    fn deref_mut(&mut self) -> &mut TrainOptions {
        &mut self.inner
    }
}

/// Unlearning options by key name: `opts.set_text("method", "neggrad")?`. A
/// name that is no forget key but a training key goes to the inner training
/// options, as `fnn_forget_options_parse()` does.
pub struct ForgetOptions {
    raw: *mut sys::fnn_forget_options,
}

unsafe impl Send for ForgetOptions {}

impl Drop for ForgetOptions {
    fn drop(&mut self) {
        unsafe { sys::fnn_forget_options_free(self.raw) }
    }
}

impl ForgetOptions {
    pub fn new() -> Result<ForgetOptions> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::fnn_forget_options_create(&mut out) },
            String::new,
        )?;
        Ok(ForgetOptions { raw: out })
    }

    /// Options running `method` (`methods()`).
    pub fn method(method: &str) -> Result<ForgetOptions> {
        let mut o = ForgetOptions::new()?;
        o.set_text("method", method)?;
        Ok(o)
    }

    /// The inner training options.
    pub fn train(&mut self) -> TrainOptionsMut<'_> {
        TrainOptionsMut {
            inner: TrainOptions {
                raw: unsafe { sys::fnn_forget_options_train(self.raw) },
                owned: false,
            },
            _owner: PhantomData,
        }
    }

    /// Sets a forget key, or else a training key of the inner options.
    pub fn set(&mut self, name: &str, value: f64) -> Result<&mut ForgetOptions> {
        match key_id(Names::ForgetKey, name) {
            Ok(k) => self.set_key(k, value)?,
            Err(_) if lookup(Names::TrainKey, name).is_ok() => {
                self.train().set(name, value)?;
            }
            Err(e) => return Err(e),
        }
        Ok(self)
    }

    /// `set` from 64 bits (a seed).
    pub fn set_u64(&mut self, name: &str, value: u64) -> Result<&mut ForgetOptions> {
        match key_id(Names::ForgetKey, name) {
            Ok(k) => self.set_key_u64(k, value)?,
            Err(_) if lookup(Names::TrainKey, name).is_ok() => {
                self.train().set_u64(name, value)?;
            }
            Err(e) => return Err(e),
        }
        Ok(self)
    }
}

/// The keyed accessors both options handles have, over their C functions.
macro_rules! keyed_options {
    ($t:ident, $kind:expr, $set:ident, $set_u64:ident, $parse:ident, $get:ident,
     $get_u64:ident, $errmsg:ident) => {
        impl $t {
            fn errmsg(&self) -> String {
                text(unsafe { sys::$errmsg(self.raw) })
            }

            fn set_key(&mut self, k: c_int, value: f64) -> Result<()> {
                check(unsafe { sys::$set(self.raw, k, value) }, || self.errmsg())
            }

            fn set_key_u64(&mut self, k: c_int, value: u64) -> Result<()> {
                check(unsafe { sys::$set_u64(self.raw, k, value) }, || {
                    self.errmsg()
                })
            }

            /// Sets a key from text, as a command line gives it ("sgd", "0.05").
            pub fn set_text(&mut self, name: &str, value: &str) -> Result<&mut $t> {
                let (n, v) = (cstring(&name.replace('_', "-"))?, cstring(value)?);
                check(
                    unsafe { sys::$parse(self.raw, n.as_ptr(), v.as_ptr()) },
                    || self.errmsg(),
                )?;
                Ok(self)
            }

            pub fn get(&self, name: &str) -> Result<f64> {
                let k = key_id($kind, name)?;
                let mut v = 0.0;
                check(unsafe { sys::$get(self.raw, k, &mut v) }, || self.errmsg())?;
                Ok(v)
            }

            /// An integer key as 64 bits (a seed).
            pub fn get_u64(&self, name: &str) -> Result<u64> {
                let k = key_id($kind, name)?;
                let mut v = 0u64;
                check(unsafe { sys::$get_u64(self.raw, k, &mut v) }, || {
                    self.errmsg()
                })?;
                Ok(v)
            }
        }
    };
}

keyed_options!(
    TrainOptions,
    Names::TrainKey,
    fnn_train_options_set,
    fnn_train_options_set_u64,
    fnn_train_options_parse,
    fnn_train_options_get,
    fnn_train_options_get_u64,
    fnn_train_options_errmsg
);
keyed_options!(
    ForgetOptions,
    Names::ForgetKey,
    fnn_forget_options_set,
    fnn_forget_options_set_u64,
    fnn_forget_options_parse,
    fnn_forget_options_get,
    fnn_forget_options_get_u64,
    fnn_forget_options_errmsg
);

// ---- models -------------------------------------------------------------------------------

/// A record of the deletion history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRecord {
    /// The library's figures by name (`names(Names::HistoryKey)`).
    pub figures: Vec<(String, f64)>,
    /// SHA-256 of the forgotten indices (`ForgetRequest::digest`).
    pub digest: [u8; 32],
    pub version: Option<String>,
}

impl HistoryRecord {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }
}

/// A sequential network with a softmax cross-entropy head.
pub struct Model {
    raw: *mut sys::fnn_model,
}

unsafe impl Send for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::fnn_model_free(self.raw) }
    }
}

impl Model {
    /// A model from a specification or preset name, initialised from `seed`.
    pub fn new(spec: &str, seed: u64) -> Result<Model> {
        let s = cstring(spec)?;
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let status =
            unsafe { sys::fnn_model_create(&mut out, s.as_ptr(), seed, err.ptr(), err.len()) };
        err.check(status)?;
        Ok(Model { raw: out })
    }

    pub fn load<P: AsRef<Path>>(path: P) -> Result<Model> {
        let p = path_cstring(path.as_ref())?;
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let status = unsafe { sys::fnn_model_load(&mut out, p.as_ptr(), err.ptr(), err.len()) };
        err.check(status)?;
        Ok(Model { raw: out })
    }

    pub fn from_bytes(data: &[u8]) -> Result<Model> {
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let status = unsafe {
            sys::fnn_model_load_buffer(
                &mut out,
                data.as_ptr() as *const c_void,
                data.len(),
                err.ptr(),
                err.len(),
            )
        };
        err.check(status)?;
        Ok(Model { raw: out })
    }

    fn errmsg(&self) -> String {
        text(unsafe { sys::fnn_model_errmsg(self.raw) })
    }

    fn ok(&self, status: c_int) -> Result<()> {
        check(status, || self.errmsg())
    }

    pub fn save<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        let p = path_cstring(path.as_ref())?;
        self.ok(unsafe { sys::fnn_model_save(self.raw, p.as_ptr()) })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut need = 0usize;
        self.ok(unsafe { sys::fnn_model_save_buffer(self.raw, ptr::null_mut(), 0, &mut need) })?;
        let mut buf = vec![0u8; need];
        self.ok(unsafe {
            sys::fnn_model_save_buffer(
                self.raw,
                buf.as_mut_ptr() as *mut c_void,
                buf.len(),
                &mut need,
            )
        })?;
        buf.truncate(need);
        Ok(buf)
    }

    /// A deep copy.
    pub fn try_clone(&self) -> Result<Model> {
        let mut out = ptr::null_mut();
        self.ok(unsafe { sys::fnn_model_clone(self.raw, &mut out) })?;
        Ok(Model { raw: out })
    }

    pub fn spec(&self) -> String {
        let size = unsafe { sys::fnn_model_spec(self.raw, ptr::null_mut(), 0) } + 1;
        let mut buf = vec![0 as c_char; size];
        unsafe { sys::fnn_model_spec(self.raw, buf.as_mut_ptr(), size) };
        text(buf.as_ptr())
    }

    pub fn num_params(&self) -> usize {
        unsafe { sys::fnn_model_num_params(self.raw) }
    }

    pub fn num_classes(&self) -> u32 {
        unsafe { sys::fnn_model_num_classes(self.raw) }
    }

    pub fn input_shape(&self) -> Shape {
        let mut s = Shape::new(0, 0, 0);
        unsafe { sys::fnn_model_input_shape(self.raw, &mut s.rows, &mut s.cols, &mut s.channels) };
        s
    }

    pub fn params(&self) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.num_params()];
        self.ok(unsafe { sys::fnn_model_get_params(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    pub fn set_params(&mut self, params: &[f32]) -> Result<()> {
        self.ok(unsafe { sys::fnn_model_set_params(self.raw, params.as_ptr(), params.len()) })
    }

    pub fn fold_input_normalization(&mut self, mean: &[f32], std: &[f32]) -> Result<()> {
        if mean.len() != std.len() {
            return Err(Error::Shape(format!(
                "{} means, {} deviations",
                mean.len(),
                std.len()
            )));
        }
        self.ok(unsafe {
            sys::fnn_model_fold_input_normalization(
                self.raw,
                mean.as_ptr(),
                std.as_ptr(),
                mean.len(),
            )
        })
    }

    pub fn flops_per_sample(&self, training: bool) -> f64 {
        unsafe { sys::fnn_model_flops_per_sample(self.raw, training as c_int) }
    }

    // ---- training ----

    /// Trains on `data` (`None`: the default options).
    pub fn train(&mut self, data: &Dataset<'_>, options: Option<&TrainOptions>) -> Result<()> {
        let o = options.map_or(ptr::null(), |o| o.raw as *const _);
        self.ok(unsafe { sys::fnn_model_train(self.raw, data.raw, o) })
    }

    /// Trains, calling `progress` after every step; `true` stops
    /// (`Error::Cancelled`), a panic stops and is resumed.
    pub fn train_with_progress<F: FnMut(TrainProgress) -> bool>(
        &mut self,
        data: &Dataset<'_>,
        options: &mut TrainOptions,
        progress: F,
    ) -> Result<()> {
        let raw = self.raw;
        with_train_progress(options, progress, |o| unsafe {
            sys::fnn_model_train(raw, data.raw, o)
        })
        .and_then(|s| self.ok(s))
    }

    /// Trains again from scratch with the recorded recipe (`options`' set
    /// keys override it).
    pub fn retrain(&mut self, data: &Dataset<'_>, options: Option<&TrainOptions>) -> Result<()> {
        let o = options.map_or(ptr::null(), |o| o.raw as *const _);
        self.ok(unsafe { sys::fnn_model_retrain(self.raw, data.raw, o) })
    }

    pub fn recipe_calls(&self) -> u32 {
        unsafe { sys::fnn_model_recipe_calls(self.raw) }
    }

    /// The recorded recipe: (options, init seed, training-set size).
    pub fn recipe(&self) -> Result<(TrainOptions, u64, u64)> {
        let (mut out, mut seed, mut n) = (ptr::null_mut(), 0u64, 0u64);
        self.ok(unsafe { sys::fnn_model_recipe(self.raw, &mut out, &mut seed, &mut n) })?;
        Ok((
            TrainOptions {
                raw: out,
                owned: true,
            },
            seed,
            n,
        ))
    }

    // ---- inference ----

    fn per_sample<T: Copy + Default>(
        &self,
        n: usize,
        per: usize,
        f: impl FnOnce(*mut T, usize) -> c_int,
    ) -> Result<Vec<T>> {
        let mut out = vec![T::default(); n * per];
        self.ok(f(out.as_mut_ptr(), out.len()))?;
        Ok(out)
    }

    fn array_len(&self, x: &Features<'_>) -> Result<usize> {
        samples(x, self.input_shape())
    }

    /// Most probable class of every sample.
    pub fn predict(&self, data: &Dataset<'_>) -> Result<Vec<i32>> {
        self.per_sample(data.len(), 1, |p, n| unsafe {
            sys::fnn_model_predict(self.raw, data.raw, p, n)
        })
    }

    /// The same on a raw array of samples of the input shape, read in place.
    pub fn predict_array(&self, x: Features<'_>) -> Result<Vec<i32>> {
        let (n, dt) = (self.array_len(&x)?, x.dtype()?);
        self.per_sample(n, 1, |p, len| unsafe {
            sys::fnn_model_predict_array(self.raw, x.ptr(), dt, n, p, len)
        })
    }

    /// Class probabilities, row per sample.
    pub fn predict_proba(&self, data: &Dataset<'_>) -> Result<Vec<f32>> {
        self.per_sample(data.len(), self.num_classes() as usize, |p, n| unsafe {
            sys::fnn_model_predict_proba(self.raw, data.raw, p, n)
        })
    }

    pub fn predict_proba_array(&self, x: Features<'_>) -> Result<Vec<f32>> {
        let (n, dt) = (self.array_len(&x)?, x.dtype()?);
        self.per_sample(n, self.num_classes() as usize, |p, len| unsafe {
            sys::fnn_model_predict_proba_array(self.raw, x.ptr(), dt, n, p, len)
        })
    }

    pub fn logits(&self, data: &Dataset<'_>) -> Result<Vec<f32>> {
        self.per_sample(data.len(), self.num_classes() as usize, |p, n| unsafe {
            sys::fnn_model_logits(self.raw, data.raw, p, n)
        })
    }

    pub fn logits_array(&self, x: Features<'_>) -> Result<Vec<f32>> {
        let (n, dt) = (self.array_len(&x)?, x.dtype()?);
        self.per_sample(n, self.num_classes() as usize, |p, len| unsafe {
            sys::fnn_model_logits_array(self.raw, x.ptr(), dt, n, p, len)
        })
    }

    /// Cross-entropy loss of every sample.
    pub fn sample_losses(&self, data: &Dataset<'_>) -> Result<Vec<f32>> {
        self.per_sample(data.len(), 1, |p, n| unsafe {
            sys::fnn_model_sample_losses(self.raw, data.raw, p, n)
        })
    }

    pub fn sample_losses_array(&self, x: Features<'_>, labels: &[i32]) -> Result<Vec<f32>> {
        let (n, dt) = (self.array_len(&x)?, x.dtype()?);
        if labels.len() != n {
            return Err(Error::Shape(format!(
                "{} labels for {} samples",
                labels.len(),
                n
            )));
        }
        self.per_sample(n, 1, |p, len| unsafe {
            sys::fnn_model_sample_losses_array(self.raw, x.ptr(), dt, labels.as_ptr(), n, p, len)
        })
    }

    /// (accuracy, mean loss).
    pub fn evaluate(&self, data: &Dataset<'_>) -> Result<(f64, f64)> {
        let (mut a, mut l) = (0.0, 0.0);
        self.ok(unsafe { sys::fnn_model_evaluate(self.raw, data.raw, &mut a, &mut l) })?;
        Ok((a, l))
    }

    /// (accuracy of every class, NaN where absent; samples of each class).
    pub fn class_accuracies(&self, data: &Dataset<'_>) -> Result<(Vec<f64>, Vec<usize>)> {
        let c = self.num_classes() as usize;
        let (mut acc, mut counts) = (vec![0f64; c], vec![0usize; c]);
        self.ok(unsafe {
            sys::fnn_model_class_accuracies(
                self.raw,
                data.raw,
                acc.as_mut_ptr(),
                counts.as_mut_ptr(),
                c,
            )
        })?;
        Ok((acc, counts))
    }

    /// Loss-based membership figures by name (`names(Names::MembershipKey)`).
    pub fn membership(
        &self,
        members: &Dataset<'_>,
        nonmembers: &Dataset<'_>,
        seed: u64,
    ) -> Result<Vec<(String, f64)>> {
        let keys = names(Names::MembershipKey);
        let mut out = vec![0f64; keys.len()];
        self.ok(unsafe {
            sys::fnn_model_membership(
                self.raw,
                members.raw,
                nonmembers.raw,
                seed,
                out.as_mut_ptr(),
                out.len(),
            )
        })?;
        Ok(keys.into_iter().zip(out).collect())
    }

    // ---- forgetting state ----

    pub fn num_forgetting_layers(&self) -> usize {
        unsafe { sys::fnn_model_num_forgetting_layers(self.raw) }
    }

    pub fn forgetting_layer_units(&self, layer: usize) -> Result<u32> {
        let mut u = 0u32;
        self.ok(unsafe { sys::fnn_model_forgetting_layer_units(self.raw, layer, &mut u) })?;
        Ok(u)
    }

    pub fn tau(&self, layer: usize) -> Result<Vec<f32>> {
        let n = self.forgetting_layer_units(layer)? as usize;
        self.per_sample(n, 1, |p, len| unsafe {
            sys::fnn_model_get_tau(self.raw, layer, p, len)
        })
    }

    pub fn set_tau(&mut self, layer: usize, tau: &[f32]) -> Result<()> {
        self.ok(unsafe { sys::fnn_model_set_tau(self.raw, layer, tau.as_ptr(), tau.len()) })
    }

    pub fn set_decay(&mut self, layer: usize, on: bool) -> Result<()> {
        self.ok(unsafe { sys::fnn_model_set_decay(self.raw, layer, on as c_int) })
    }

    pub fn decay_enabled(&self, layer: usize) -> Result<bool> {
        let r = unsafe { sys::fnn_model_decay_enabled(self.raw, layer) };
        if r < 0 {
            self.ok(r)?;
        }
        Ok(r == 1)
    }

    pub fn clock(&self) -> u32 {
        unsafe { sys::fnn_model_clock(self.raw) }
    }

    pub fn set_clock(&mut self, t: u32) -> Result<()> {
        self.ok(unsafe { sys::fnn_model_set_clock(self.raw, t) })
    }

    pub fn decay_factors(&self, layer: usize) -> Result<Vec<f32>> {
        let n = self.forgetting_layer_units(layer)? as usize;
        self.per_sample(n, 1, |p, len| unsafe {
            sys::fnn_model_decay_factors(self.raw, layer, p, len)
        })
    }

    pub fn fold_decay(&mut self) -> Result<()> {
        self.ok(unsafe { sys::fnn_model_fold_decay(self.raw) })
    }

    pub fn rank_neurons(&self, data: &Dataset<'_>, layer: usize) -> Result<Vec<u32>> {
        let n = self.forgetting_layer_units(layer)? as usize;
        self.per_sample(n, 1, |p, len| unsafe {
            sys::fnn_model_rank_neurons(self.raw, data.raw, layer, p, len)
        })
    }

    /// Sets tau by a policy (`names(Names::Policy)`) and turns the decay on.
    pub fn apply_policy(
        &mut self,
        policy: &str,
        forget: Option<&Dataset<'_>>,
        param: f64,
        seed: u64,
    ) -> Result<()> {
        let p = lookup(Names::Policy, policy)?;
        let f = forget.map_or(ptr::null(), |d| d.raw as *const _);
        self.ok(unsafe { sys::fnn_model_apply_policy(self.raw, f, p, param, seed) })
    }

    // ---- unlearning ----

    /// Makes the model forget the request's samples with the method of
    /// `options` (`None`: the defaults, post-hoc FNN).
    pub fn forget(
        &mut self,
        request: &ForgetRequest<'_>,
        holdout: Option<&Dataset<'_>>,
        options: Option<&ForgetOptions>,
    ) -> Result<Report> {
        let report = Report::new()?;
        let h = holdout.map_or(ptr::null(), |d| d.raw as *const _);
        let o = options.map_or(ptr::null(), |o| o.raw as *const _);
        self.ok(unsafe { sys::fnn_model_forget(self.raw, request.raw, h, o, report.raw) })?;
        Ok(report)
    }

    /// `forget` with a progress closure: `true` stops the run and leaves the
    /// model as it was (`Error::Cancelled`); a panic does the same and is
    /// resumed.
    pub fn forget_with_progress<F: FnMut(ForgetProgress) -> bool>(
        &mut self,
        request: &ForgetRequest<'_>,
        holdout: Option<&Dataset<'_>>,
        options: &mut ForgetOptions,
        progress: F,
    ) -> Result<Report> {
        let report = Report::new()?;
        let h = holdout.map_or(ptr::null(), |d| d.raw as *const _);
        let mut cb = Callback::new(progress);
        let user = &mut cb as *mut Callback<F> as *mut c_void;
        unsafe {
            sys::fnn_forget_options_set_progress(options.raw, Some(forget_trampoline::<F>), user)
        };
        let status =
            unsafe { sys::fnn_model_forget(self.raw, request.raw, h, options.raw, report.raw) };
        unsafe { sys::fnn_forget_options_set_progress(options.raw, None, ptr::null_mut()) };
        cb.finish(self.ok(status)).map(|_| report)
    }

    /// The deletion history, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryRecord>> {
        let keys = names(Names::HistoryKey);
        let n = unsafe { sys::fnn_model_history_count(self.raw) };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let mut figures = Vec::with_capacity(keys.len());
            for (k, name) in keys.iter().enumerate() {
                let mut v = 0.0;
                self.ok(unsafe { sys::fnn_model_history_get(self.raw, i, k as c_int, &mut v) })?;
                figures.push((name.clone(), v));
            }
            let mut digest = [0u8; 32];
            self.ok(unsafe { sys::fnn_model_history_digest(self.raw, i, digest.as_mut_ptr()) })?;
            let v = unsafe { sys::fnn_model_history_version(self.raw, i) };
            out.push(HistoryRecord {
                figures,
                digest,
                version: if v.is_null() { None } else { Some(text(v)) },
            });
        }
        Ok(out)
    }
}

fn with_train_progress<F: FnMut(TrainProgress) -> bool>(
    options: &mut TrainOptions,
    progress: F,
    call: impl FnOnce(*const sys::fnn_train_options) -> c_int,
) -> Result<c_int> {
    let mut cb = Callback::new(progress);
    let user = &mut cb as *mut Callback<F> as *mut c_void;
    unsafe { sys::fnn_train_options_set_progress(options.raw, Some(train_trampoline::<F>), user) };
    let status = call(options.raw);
    unsafe { sys::fnn_train_options_set_progress(options.raw, None, ptr::null_mut()) };
    cb.finish(Ok(status))
}

// ---- forget requests and reports -------------------------------------------------------------

/// A request to forget part of a training set; it shares the training set's
/// storage (so borrows its features).
pub struct ForgetRequest<'a> {
    raw: *mut sys::fnn_forget_request,
    _features: PhantomData<&'a [u8]>,
}

unsafe impl<'a> Send for ForgetRequest<'a> {}

impl<'a> Drop for ForgetRequest<'a> {
    fn drop(&mut self) {
        unsafe { sys::fnn_forget_request_free(self.raw) }
    }
}

impl<'a> ForgetRequest<'a> {
    fn make(
        f: impl FnOnce(*mut *mut sys::fnn_forget_request, *mut c_char, usize) -> c_int,
    ) -> Result<ForgetRequest<'a>> {
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let len = err.len();
        let status = f(&mut out, err.ptr(), len);
        err.check(status)?;
        Ok(ForgetRequest {
            raw: out,
            _features: PhantomData,
        })
    }

    pub fn from_indices(train: &Dataset<'a>, indices: &[u32]) -> Result<ForgetRequest<'a>> {
        Self::make(|o, e, n| unsafe {
            sys::fnn_forget_request_from_indices(
                o,
                train.raw,
                indices.as_ptr(),
                indices.len(),
                e,
                n,
            )
        })
    }

    /// Indices as text: white space separated, '#' comments.
    pub fn from_index_text(train: &Dataset<'a>, text_: &str) -> Result<ForgetRequest<'a>> {
        Self::make(|o, e, n| unsafe {
            sys::fnn_forget_request_from_index_text(
                o,
                train.raw,
                text_.as_ptr() as *const c_char,
                text_.len(),
                e,
                n,
            )
        })
    }

    pub fn from_class(train: &Dataset<'a>, label: i32) -> Result<ForgetRequest<'a>> {
        Self::make(|o, e, n| unsafe {
            sys::fnn_forget_request_from_class(o, train.raw, label, e, n)
        })
    }

    pub fn random(train: &Dataset<'a>, count: usize, seed: u64) -> Result<ForgetRequest<'a>> {
        Self::make(|o, e, n| unsafe {
            sys::fnn_forget_request_random(o, train.raw, count, seed, e, n)
        })
    }

    pub fn len(&self) -> usize {
        unsafe { sys::fnn_forget_request_size(self.raw) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// "indices", "class" or "random" (`names(Names::RequestKind)`).
    pub fn kind(&self) -> String {
        let k = unsafe { sys::fnn_forget_request_kind(self.raw) };
        name_of(Names::RequestKind, k).unwrap_or_else(|| k.to_string())
    }

    /// The class of a class request.
    pub fn class(&self) -> Option<i32> {
        let mut y = 0i32;
        if unsafe { sys::fnn_forget_request_class(self.raw, &mut y) } == sys::FNN_OK {
            Some(y)
        } else {
            None
        }
    }

    pub fn indices(&self) -> Vec<u32> {
        let mut out = vec![0u32; self.len()];
        unsafe { sys::fnn_forget_request_indices(self.raw, out.as_mut_ptr(), out.len()) };
        out
    }

    /// SHA-256 of the ascending indices, each 4 bytes little-endian.
    pub fn digest(&self) -> [u8; 32] {
        let mut d = [0u8; 32];
        unsafe { sys::fnn_forget_request_digest(self.raw, d.as_mut_ptr()) };
        d
    }

    pub fn forget_set(&self) -> Result<Dataset<'a>> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::fnn_forget_request_forget_set(self.raw, &mut out) },
            String::new,
        )?;
        Ok(Dataset {
            raw: out,
            _features: PhantomData,
        })
    }

    pub fn retain_set(&self) -> Result<Dataset<'a>> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::fnn_forget_request_retain_set(self.raw, &mut out) },
            String::new,
        )?;
        Ok(Dataset {
            raw: out,
            _features: PhantomData,
        })
    }
}

/// What an unlearning run did and measured, by the library's names.
pub struct Report {
    raw: *mut sys::fnn_forget_report,
}

unsafe impl Send for Report {}

impl Drop for Report {
    fn drop(&mut self) {
        unsafe { sys::fnn_forget_report_free(self.raw) }
    }
}

impl Report {
    fn new() -> Result<Report> {
        let mut out = ptr::null_mut();
        check(
            unsafe { sys::fnn_forget_report_create(&mut out) },
            String::new,
        )?;
        Ok(Report { raw: out })
    }

    /// A figure by name (`names(Names::ReportKey)`).
    pub fn get(&self, name: &str) -> Result<f64> {
        let k = lookup(Names::ReportKey, name)?;
        let mut v = 0.0;
        check(
            unsafe { sys::fnn_forget_report_get(self.raw, k, &mut v) },
            String::new,
        )?;
        Ok(v)
    }

    /// The method that ran, by name.
    pub fn method(&self) -> Result<String> {
        let v = self.get("method")?;
        Ok(name_of(Names::Method, v as i32).unwrap_or_else(|| v.to_string()))
    }

    /// Every figure, by name.
    pub fn figures(&self) -> Vec<(String, f64)> {
        names(Names::ReportKey)
            .into_iter()
            .enumerate()
            .map(|(k, n)| {
                let mut v = f64::NAN;
                unsafe { sys::fnn_forget_report_get(self.raw, k as c_int, &mut v) };
                (n, v)
            })
            .collect()
    }

    /// The recorded phases, each by the names of `names(Names::PhaseKey)`.
    pub fn phases(&self) -> Vec<Vec<(String, f64)>> {
        let keys = names(Names::PhaseKey);
        let n = unsafe { sys::fnn_forget_report_num_phases(self.raw) };
        (0..n)
            .map(|i| {
                keys.iter()
                    .enumerate()
                    .map(|(k, name)| {
                        let mut v = f64::NAN;
                        unsafe { sys::fnn_forget_report_phase(self.raw, i, k as c_int, &mut v) };
                        (name.clone(), v)
                    })
                    .collect()
            })
            .collect()
    }
}

// ---- membership inference --------------------------------------------------------------------

fn with_err<T>(f: impl FnOnce(*mut c_char, usize) -> c_int, value: T) -> Result<T> {
    let mut err = ErrBuf::new();
    let len = err.len();
    let status = f(err.ptr(), len);
    err.check(status)?;
    Ok(value)
}

/// P(member score > non-member score) + P(equal) / 2.
pub fn mia_auc(member: &[f64], nonmember: &[f64]) -> Result<f64> {
    let mut auc = 0.0;
    let p = &mut auc as *mut f64;
    with_err(
        |e, n| unsafe {
            sys::fnn_mia_auc(
                member.as_ptr(),
                member.len(),
                nonmember.as_ptr(),
                nonmember.len(),
                p,
                e,
                n,
            )
        },
        (),
    )?;
    Ok(auc)
}

/// The largest TPR of a threshold rule with FPR at most `fpr`.
pub fn mia_tpr_at_fpr(member: &[f64], nonmember: &[f64], fpr: f64) -> Result<f64> {
    let mut tpr = 0.0;
    let p = &mut tpr as *mut f64;
    with_err(
        |e, n| unsafe {
            sys::fnn_mia_tpr_at_fpr(
                member.as_ptr(),
                member.len(),
                nonmember.as_ptr(),
                nonmember.len(),
                fpr,
                p,
                e,
                n,
            )
        },
        (),
    )?;
    Ok(tpr)
}

/// The loss attack: (mean accuracy, standard deviation over the splits).
pub fn mia_loss_attack(member: &[f32], nonmember: &[f32], seed: u64) -> Result<(f64, f64)> {
    let (mut acc, mut spread) = (0.0, 0.0);
    let (pa, ps) = (&mut acc as *mut f64, &mut spread as *mut f64);
    with_err(
        |e, n| unsafe {
            sys::fnn_mia_loss_attack(
                member.as_ptr(),
                member.len(),
                nonmember.as_ptr(),
                nonmember.len(),
                seed,
                pa,
                ps,
                e,
                n,
            )
        },
        (),
    )?;
    Ok((acc, spread))
}

/// Mean |method_i - reference_i| of paired fractions, in percentage points.
pub fn avg_gap(method: &[f64], reference: &[f64]) -> Result<f64> {
    if method.len() != reference.len() {
        return Err(Error::Shape(format!(
            "{} figures against {}",
            method.len(),
            reference.len()
        )));
    }
    let mut gap = 0.0;
    let p = &mut gap as *mut f64;
    with_err(
        |e, n| unsafe {
            sys::fnn_avg_gap(method.as_ptr(), reference.as_ptr(), method.len(), p, e, n)
        },
        (),
    )?;
    Ok(gap)
}

/// LiRA on models like the one given, with shadows on halves of a universe
/// (U-LiRA from `unlearn`). Options by name (`attack_keys()`).
pub struct Attack<'a> {
    raw: *mut sys::fnn_attack,
    n: usize,
    _features: PhantomData<&'a [u8]>,
}

unsafe impl<'a> Send for Attack<'a> {}

impl<'a> Drop for Attack<'a> {
    fn drop(&mut self) {
        unsafe { sys::fnn_attack_free(self.raw) }
    }
}

impl<'a> Attack<'a> {
    pub fn new(model: &Model, universe: &Dataset<'a>, candidates: &[u32]) -> Result<Attack<'a>> {
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let status = unsafe {
            sys::fnn_attack_create(
                &mut out,
                model.raw,
                universe.raw,
                candidates.as_ptr(),
                candidates.len(),
                err.ptr(),
                err.len(),
            )
        };
        err.check(status)?;
        Ok(Attack {
            raw: out,
            n: candidates.len(),
            _features: PhantomData,
        })
    }

    fn ok(&self, status: c_int) -> Result<()> {
        check(status, || text(unsafe { sys::fnn_attack_errmsg(self.raw) }))
    }

    pub fn set(&mut self, name: &str, value: f64) -> Result<&mut Attack<'a>> {
        let k = key_id(Names::AttackKey, name)?;
        self.ok(unsafe { sys::fnn_attack_set(self.raw, k, value) })?;
        Ok(self)
    }

    pub fn set_u64(&mut self, name: &str, value: u64) -> Result<&mut Attack<'a>> {
        let k = key_id(Names::AttackKey, name)?;
        self.ok(unsafe { sys::fnn_attack_set_u64(self.raw, k, value) })?;
        Ok(self)
    }

    pub fn get(&self, name: &str) -> Result<f64> {
        let k = key_id(Names::AttackKey, name)?;
        let mut v = 0.0;
        self.ok(unsafe { sys::fnn_attack_get(self.raw, k, &mut v) })?;
        Ok(v)
    }

    pub fn shadows_trained(&self) -> u32 {
        unsafe { sys::fnn_attack_shadows_trained(self.raw) }
    }

    pub fn train(&mut self) -> Result<()> {
        self.ok(unsafe { sys::fnn_attack_train(self.raw) })
    }

    /// Trains the shadows, calling `progress(done, shadows)` as each
    /// finishes, from the library's threads (one call at a time).
    pub fn train_with_progress<F: FnMut(u32, u32) -> bool + Send>(
        &mut self,
        progress: F,
    ) -> Result<()> {
        let mut cb = Callback::new(progress);
        let user = &mut cb as *mut Callback<F> as *mut c_void;
        unsafe { sys::fnn_attack_set_progress(self.raw, Some(attack_trampoline::<F>), user) };
        let status = unsafe { sys::fnn_attack_train(self.raw) };
        unsafe { sys::fnn_attack_set_progress(self.raw, None, ptr::null_mut()) };
        cb.finish(self.ok(status))
    }

    /// U-LiRA: shadows that unlearned the candidates flagged in `forget`.
    pub fn unlearn(&self, forget: &[u8], options: &ForgetOptions) -> Result<Attack<'a>> {
        let mut out = ptr::null_mut();
        let mut err = ErrBuf::new();
        let status = unsafe {
            sys::fnn_attack_unlearn(
                self.raw,
                forget.as_ptr(),
                forget.len(),
                options.raw,
                &mut out,
                err.ptr(),
                err.len(),
            )
        };
        err.check(status)?;
        Ok(Attack {
            raw: out,
            n: self.n,
            _features: PhantomData,
        })
    }

    /// Per-candidate membership scores of `target` (higher: more likely IN).
    pub fn scores(&self, target: &Model) -> Result<Vec<f64>> {
        let mut out = vec![0f64; self.n];
        self.ok(unsafe {
            sys::fnn_attack_scores(self.raw, target.raw, out.as_mut_ptr(), out.len())
        })?;
        Ok(out)
    }

    /// (AUC, TPR at 1% FPR, TPR at 0.1% FPR).
    pub fn evaluate(&self, target: &Model, member: &[u8]) -> Result<(f64, f64, f64)> {
        let (mut a, mut t1, mut t01) = (0.0, 0.0, 0.0);
        self.ok(unsafe {
            sys::fnn_attack_evaluate(
                self.raw,
                target.raw,
                member.as_ptr(),
                member.len(),
                &mut a,
                &mut t1,
                &mut t01,
            )
        })?;
        Ok((a, t1, t01))
    }
}
