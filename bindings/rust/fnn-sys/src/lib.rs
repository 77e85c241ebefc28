//! Raw declarations of libfnn's C API, one for every function of
//! `include/fnn/fnn.h` (the specification: read it for each function's
//! contract, status codes, ownership and thread-safety). The enum values the
//! safe crate needs are read from the library at run time (`fnn_name()` and
//! friends); only the pinned ones are here. Linking: see build.rs.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_uint, c_void};

/// Declares opaque handle types (never constructed on the Rust side).
macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}

opaque!(
    fnn_dataset,
    fnn_model,
    fnn_train_options,
    fnn_forget_request,
    fnn_forget_options,
    fnn_forget_report,
    fnn_attack
);

/// `fnn_progress_fn`: user, epoch, epochs, batch, batches, loss.
pub type ProgressFn = unsafe extern "C" fn(*mut c_void, u32, u32, usize, usize, f32) -> c_int;
/// `fnn_forget_progress_fn`: user, phase kind, step, done, total, report so far.
pub type ForgetProgressFn =
    unsafe extern "C" fn(*mut c_void, c_int, u64, f64, f64, *const fnn_forget_report) -> c_int;
/// `fnn_attack_progress_fn`: user, done, shadows.
pub type AttackProgressFn = unsafe extern "C" fn(*mut c_void, u32, u32) -> c_int;

/// Pinned status codes (enum fnn_status; docs/ABI.md).
pub const FNN_OK: c_int = 0;
pub const FNN_E_NULL: c_int = -1;
pub const FNN_E_INVALID: c_int = -2;
pub const FNN_E_NOMEM: c_int = -3;
pub const FNN_E_IO: c_int = -4;
pub const FNN_E_FORMAT: c_int = -5;
pub const FNN_E_TRUNCATED: c_int = -6;
pub const FNN_E_CHECKSUM: c_int = -7;
pub const FNN_E_VERSION: c_int = -8;
pub const FNN_E_SHAPE: c_int = -9;
pub const FNN_E_RANGE: c_int = -10;
pub const FNN_E_SPEC: c_int = -11;
pub const FNN_E_NUMERIC: c_int = -12;
pub const FNN_E_CANCELLED: c_int = -13;
pub const FNN_E_STATE: c_int = -14;
pub const FNN_E_DUPLICATE: c_int = -15;
pub const FNN_E_EMPTY: c_int = -16;

/// enum fnn_names: the kinds of names (pinned); the names are the library's.
pub const FNN_NAMES_OPTIMIZER: c_int = 0;
pub const FNN_NAMES_LR_SCHEDULE: c_int = 1;
pub const FNN_NAMES_POLICY: c_int = 2;
pub const FNN_NAMES_METHOD: c_int = 3;
pub const FNN_NAMES_REQUEST_KIND: c_int = 4;
pub const FNN_NAMES_PHASE_KIND: c_int = 5;
pub const FNN_NAMES_PRESET: c_int = 6;
pub const FNN_NAMES_SPLIT: c_int = 7;
pub const FNN_NAMES_TRAIN_KEY: c_int = 8;
pub const FNN_NAMES_FORGET_KEY: c_int = 9;
pub const FNN_NAMES_REPORT_KEY: c_int = 10;
pub const FNN_NAMES_PHASE_KEY: c_int = 11;
pub const FNN_NAMES_HISTORY_KEY: c_int = 12;
pub const FNN_NAMES_MEMBERSHIP_KEY: c_int = 13;
pub const FNN_NAMES_DTYPE: c_int = 14;
pub const FNN_NAMES_ATTACK_KEY: c_int = 15;

/// enum fnn_bound_flag (pinned).
pub const FNN_BOUND_INTEGER: u32 = 1;
pub const FNN_BOUND_LO_OPEN: u32 = 2;
pub const FNN_BOUND_HI_OPEN: u32 = 4;
pub const FNN_BOUND_AUTO: u32 = 8;
pub const FNN_BOUND_NAMED: u32 = 16;
pub const FNN_BOUND_DEPRECATED: u32 = 32;

extern "C" {
    pub fn fnn_version_number() -> c_uint;
    pub fn fnn_version_string() -> *const c_char;
    pub fn fnn_strerror(status: c_int) -> *const c_char;
    pub fn fnn_names_count(kind: c_int) -> usize;
    pub fn fnn_name(kind: c_int, value: c_int) -> *const c_char;
    pub fn fnn_name_help(kind: c_int, value: c_int) -> *const c_char;
    pub fn fnn_name_lookup(kind: c_int, name: *const c_char, value: *mut c_int) -> c_int;
    pub fn fnn_dataset_load_idx(
        out: *mut *mut fnn_dataset,
        images_path: *const c_char,
        labels_path: *const c_char,
        num_classes: u32,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_dataset_load_dir(
        out: *mut *mut fnn_dataset,
        dir: *const c_char,
        split: c_int,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_dataset_from_arrays(
        out: *mut *mut fnn_dataset,
        features: *const f32,
        labels: *const i32,
        n: usize,
        rows: u32,
        cols: u32,
        channels: u32,
        num_classes: u32,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_dataset_from_arrays_v2(
        out: *mut *mut fnn_dataset,
        features: *const c_void,
        dtype: c_int,
        labels: *const i32,
        n: usize,
        rows: u32,
        cols: u32,
        channels: u32,
        num_classes: u32,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_dataset_borrow_arrays(
        out: *mut *mut fnn_dataset,
        features: *const c_void,
        dtype: c_int,
        labels: *const i32,
        n: usize,
        rows: u32,
        cols: u32,
        channels: u32,
        num_classes: u32,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_dataset_has_labels(ds: *const fnn_dataset) -> c_int;
    pub fn fnn_dataset_free(ds: *mut fnn_dataset);
    pub fn fnn_dataset_errmsg(ds: *const fnn_dataset) -> *const c_char;
    pub fn fnn_dataset_size(ds: *const fnn_dataset) -> usize;
    pub fn fnn_dataset_num_classes(ds: *const fnn_dataset) -> u32;
    pub fn fnn_dataset_shape(
        ds: *const fnn_dataset,
        rows: *mut u32,
        cols: *mut u32,
        channels: *mut u32,
    ) -> c_int;
    pub fn fnn_dataset_labels(ds: *mut fnn_dataset, labels: *mut i32, n: usize) -> c_int;
    pub fn fnn_dataset_features(ds: *mut fnn_dataset, x: *mut f32, n: usize) -> c_int;
    pub fn fnn_dataset_subset(
        ds: *mut fnn_dataset,
        indices: *const u32,
        n: usize,
        out: *mut *mut fnn_dataset,
    ) -> c_int;
    pub fn fnn_dataset_split(
        ds: *mut fnn_dataset,
        fraction: f64,
        seed: u64,
        first: *mut *mut fnn_dataset,
        second: *mut *mut fnn_dataset,
    ) -> c_int;
    pub fn fnn_dataset_set_normalization(
        ds: *mut fnn_dataset,
        mean: *const f32,
        std: *const f32,
        channels: usize,
    ) -> c_int;
    pub fn fnn_dataset_channel_stats(
        ds: *mut fnn_dataset,
        mean: *mut f32,
        std: *mut f32,
        channels: usize,
    ) -> c_int;
    pub fn fnn_model_create(
        out: *mut *mut fnn_model,
        spec: *const c_char,
        seed: u64,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_model_free(m: *mut fnn_model);
    pub fn fnn_model_clone(m: *const fnn_model, out: *mut *mut fnn_model) -> c_int;
    pub fn fnn_model_errmsg(m: *const fnn_model) -> *const c_char;
    pub fn fnn_model_spec(m: *const fnn_model, buf: *mut c_char, size: usize) -> usize;
    pub fn fnn_model_num_params(m: *const fnn_model) -> usize;
    pub fn fnn_model_num_classes(m: *const fnn_model) -> u32;
    pub fn fnn_model_input_shape(
        m: *const fnn_model,
        rows: *mut u32,
        cols: *mut u32,
        channels: *mut u32,
    ) -> c_int;
    pub fn fnn_model_get_params(m: *const fnn_model, out: *mut f32, n: usize) -> c_int;
    pub fn fnn_model_set_params(m: *mut fnn_model, params: *const f32, n: usize) -> c_int;
    pub fn fnn_model_fold_input_normalization(
        m: *mut fnn_model,
        mean: *const f32,
        std: *const f32,
        channels: usize,
    ) -> c_int;
    pub fn fnn_model_flops_per_sample(m: *const fnn_model, training: c_int) -> f64;
    pub fn fnn_train_options_create(out: *mut *mut fnn_train_options) -> c_int;
    pub fn fnn_train_options_free(o: *mut fnn_train_options);
    pub fn fnn_train_options_preset(o: *mut fnn_train_options, arch: *const c_char) -> c_int;
    pub fn fnn_train_options_set(o: *mut fnn_train_options, key: c_int, value: f64) -> c_int;
    pub fn fnn_train_options_get(o: *const fnn_train_options, key: c_int, value: *mut f64)
        -> c_int;
    pub fn fnn_train_options_set_u64(o: *mut fnn_train_options, key: c_int, value: u64) -> c_int;
    pub fn fnn_train_options_get_u64(
        o: *const fnn_train_options,
        key: c_int,
        value: *mut u64,
    ) -> c_int;
    pub fn fnn_train_options_parse(
        o: *mut fnn_train_options,
        name: *const c_char,
        value: *const c_char,
    ) -> c_int;
    pub fn fnn_train_key_describe(key: c_int, buf: *mut c_char, size: usize) -> usize;
    pub fn fnn_train_key_bounds(
        key: c_int,
        lo: *mut f64,
        hi: *mut f64,
        flags: *mut u32,
        names: *mut c_int,
    ) -> c_int;
    pub fn fnn_train_options_set_progress(
        o: *mut fnn_train_options,
        fn_: Option<ProgressFn>,
        user: *mut c_void,
    ) -> c_int;
    pub fn fnn_train_options_errmsg(o: *const fnn_train_options) -> *const c_char;
    pub fn fnn_model_train(
        m: *mut fnn_model,
        train: *const fnn_dataset,
        opts: *const fnn_train_options,
    ) -> c_int;
    pub fn fnn_model_retrain(
        m: *mut fnn_model,
        train: *const fnn_dataset,
        opts: *const fnn_train_options,
    ) -> c_int;
    pub fn fnn_model_recipe_calls(m: *const fnn_model) -> u32;
    pub fn fnn_model_recipe(
        m: *const fnn_model,
        out: *mut *mut fnn_train_options,
        init_seed: *mut u64,
        samples: *mut u64,
    ) -> c_int;
    pub fn fnn_model_predict_proba(
        m: *const fnn_model,
        ds: *const fnn_dataset,
        out: *mut f32,
        n: usize,
    ) -> c_int;
    pub fn fnn_model_predict(
        m: *const fnn_model,
        ds: *const fnn_dataset,
        out: *mut i32,
        n: usize,
    ) -> c_int;
    pub fn fnn_model_evaluate(
        m: *const fnn_model,
        ds: *const fnn_dataset,
        accuracy: *mut f64,
        mean_loss: *mut f64,
    ) -> c_int;
    pub fn fnn_model_sample_losses(
        m: *const fnn_model,
        ds: *const fnn_dataset,
        out: *mut f32,
        n: usize,
    ) -> c_int;
    pub fn fnn_model_predict_array(
        m: *const fnn_model,
        x: *const c_void,
        dtype: c_int,
        n: usize,
        out: *mut i32,
        out_n: usize,
    ) -> c_int;
    pub fn fnn_model_predict_proba_array(
        m: *const fnn_model,
        x: *const c_void,
        dtype: c_int,
        n: usize,
        out: *mut f32,
        out_n: usize,
    ) -> c_int;
    pub fn fnn_model_logits_array(
        m: *const fnn_model,
        x: *const c_void,
        dtype: c_int,
        n: usize,
        out: *mut f32,
        out_n: usize,
    ) -> c_int;
    pub fn fnn_model_sample_losses_array(
        m: *const fnn_model,
        x: *const c_void,
        dtype: c_int,
        labels: *const i32,
        n: usize,
        out: *mut f32,
        out_n: usize,
    ) -> c_int;
    pub fn fnn_model_class_accuracies(
        m: *const fnn_model,
        ds: *const fnn_dataset,
        acc: *mut f64,
        counts: *mut usize,
        n: usize,
    ) -> c_int;
    pub fn fnn_model_logits(
        m: *const fnn_model,
        ds: *const fnn_dataset,
        out: *mut f32,
        n: usize,
    ) -> c_int;
    pub fn fnn_mia_auc(
        member_score: *const f64,
        nm: usize,
        nonmember_score: *const f64,
        nn: usize,
        auc: *mut f64,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_mia_tpr_at_fpr(
        member_score: *const f64,
        nm: usize,
        nonmember_score: *const f64,
        nn: usize,
        fpr: f64,
        tpr: *mut f64,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_mia_loss_attack(
        member_loss: *const f32,
        nm: usize,
        nonmember_loss: *const f32,
        nn: usize,
        seed: u64,
        accuracy: *mut f64,
        spread: *mut f64,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_avg_gap(
        method: *const f64,
        reference: *const f64,
        n: usize,
        gap: *mut f64,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_model_membership(
        m: *const fnn_model,
        members: *const fnn_dataset,
        nonmembers: *const fnn_dataset,
        seed: u64,
        out: *mut f64,
        n: usize,
    ) -> c_int;
    pub fn fnn_model_save(m: *const fnn_model, path: *const c_char) -> c_int;
    pub fn fnn_model_load(
        out: *mut *mut fnn_model,
        path: *const c_char,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_model_save_buffer(
        m: *const fnn_model,
        buf: *mut c_void,
        size: usize,
        needed: *mut usize,
    ) -> c_int;
    pub fn fnn_model_load_buffer(
        out: *mut *mut fnn_model,
        buf: *const c_void,
        size: usize,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_model_num_forgetting_layers(m: *const fnn_model) -> usize;
    pub fn fnn_model_forgetting_layer_units(
        m: *const fnn_model,
        layer: usize,
        units: *mut u32,
    ) -> c_int;
    pub fn fnn_model_get_tau(m: *const fnn_model, layer: usize, tau: *mut f32, n: usize) -> c_int;
    pub fn fnn_model_set_tau(m: *mut fnn_model, layer: usize, tau: *const f32, n: usize) -> c_int;
    pub fn fnn_model_set_decay(m: *mut fnn_model, layer: usize, on: c_int) -> c_int;
    pub fn fnn_model_decay_enabled(m: *const fnn_model, layer: usize) -> c_int;
    pub fn fnn_model_set_clock(m: *mut fnn_model, t: u32) -> c_int;
    pub fn fnn_model_clock(m: *const fnn_model) -> u32;
    pub fn fnn_model_decay_factors(
        m: *const fnn_model,
        layer: usize,
        out: *mut f32,
        n: usize,
    ) -> c_int;
    pub fn fnn_model_fold_decay(m: *mut fnn_model) -> c_int;
    pub fn fnn_model_rank_neurons(
        m: *const fnn_model,
        ds: *const fnn_dataset,
        layer: usize,
        ranks: *mut u32,
        n: usize,
    ) -> c_int;
    pub fn fnn_model_apply_policy(
        m: *mut fnn_model,
        forget: *const fnn_dataset,
        policy: c_int,
        param: f64,
        seed: u64,
    ) -> c_int;
    pub fn fnn_forget_request_from_indices(
        out: *mut *mut fnn_forget_request,
        train: *const fnn_dataset,
        indices: *const u32,
        n: usize,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_forget_request_from_index_text(
        out: *mut *mut fnn_forget_request,
        train: *const fnn_dataset,
        text: *const c_char,
        len: usize,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_forget_request_from_class(
        out: *mut *mut fnn_forget_request,
        train: *const fnn_dataset,
        label: i32,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_forget_request_random(
        out: *mut *mut fnn_forget_request,
        train: *const fnn_dataset,
        count: usize,
        seed: u64,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_forget_request_free(r: *mut fnn_forget_request);
    pub fn fnn_forget_request_size(r: *const fnn_forget_request) -> usize;
    pub fn fnn_forget_request_kind(r: *const fnn_forget_request) -> c_int;
    pub fn fnn_forget_request_class(r: *const fnn_forget_request, label: *mut i32) -> c_int;
    pub fn fnn_forget_request_indices(
        r: *const fnn_forget_request,
        out: *mut u32,
        n: usize,
    ) -> c_int;
    pub fn fnn_forget_request_forget_set(
        r: *const fnn_forget_request,
        out: *mut *mut fnn_dataset,
    ) -> c_int;
    pub fn fnn_forget_request_retain_set(
        r: *const fnn_forget_request,
        out: *mut *mut fnn_dataset,
    ) -> c_int;
    pub fn fnn_forget_options_create(out: *mut *mut fnn_forget_options) -> c_int;
    pub fn fnn_forget_options_free(o: *mut fnn_forget_options);
    pub fn fnn_forget_options_set(o: *mut fnn_forget_options, key: c_int, value: f64) -> c_int;
    pub fn fnn_forget_options_get(
        o: *const fnn_forget_options,
        key: c_int,
        value: *mut f64,
    ) -> c_int;
    pub fn fnn_forget_options_set_u64(o: *mut fnn_forget_options, key: c_int, value: u64) -> c_int;
    pub fn fnn_forget_options_get_u64(
        o: *const fnn_forget_options,
        key: c_int,
        value: *mut u64,
    ) -> c_int;
    pub fn fnn_forget_options_parse(
        o: *mut fnn_forget_options,
        name: *const c_char,
        value: *const c_char,
    ) -> c_int;
    pub fn fnn_forget_options_train(o: *mut fnn_forget_options) -> *mut fnn_train_options;
    pub fn fnn_forget_options_set_progress(
        o: *mut fnn_forget_options,
        fn_: Option<ForgetProgressFn>,
        user: *mut c_void,
    ) -> c_int;
    pub fn fnn_forget_options_errmsg(o: *const fnn_forget_options) -> *const c_char;
    pub fn fnn_forget_key_bounds(
        key: c_int,
        lo: *mut f64,
        hi: *mut f64,
        flags: *mut u32,
        names: *mut c_int,
    ) -> c_int;
    pub fn fnn_forget_key_describe(key: c_int, buf: *mut c_char, size: usize) -> usize;
    pub fn fnn_forget_key_methods(key: c_int) -> u32;
    pub fn fnn_forget_report_create(out: *mut *mut fnn_forget_report) -> c_int;
    pub fn fnn_forget_report_free(r: *mut fnn_forget_report);
    pub fn fnn_forget_report_get(r: *const fnn_forget_report, key: c_int, value: *mut f64)
        -> c_int;
    pub fn fnn_forget_report_num_phases(r: *const fnn_forget_report) -> usize;
    pub fn fnn_forget_report_phase(
        r: *const fnn_forget_report,
        i: usize,
        key: c_int,
        value: *mut f64,
    ) -> c_int;
    pub fn fnn_forget_request_digest(r: *const fnn_forget_request, digest: *mut u8) -> c_int;
    pub fn fnn_model_history_count(m: *const fnn_model) -> usize;
    pub fn fnn_model_history_get(
        m: *const fnn_model,
        i: usize,
        key: c_int,
        value: *mut f64,
    ) -> c_int;
    pub fn fnn_model_history_digest(m: *const fnn_model, i: usize, digest: *mut u8) -> c_int;
    pub fn fnn_model_history_version(m: *const fnn_model, i: usize) -> *const c_char;
    pub fn fnn_model_forget(
        m: *mut fnn_model,
        req: *const fnn_forget_request,
        holdout: *const fnn_dataset,
        opts: *const fnn_forget_options,
        report: *mut fnn_forget_report,
    ) -> c_int;
    pub fn fnn_attack_create(
        out: *mut *mut fnn_attack,
        model: *const fnn_model,
        universe: *const fnn_dataset,
        candidates: *const u32,
        n: usize,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_attack_free(a: *mut fnn_attack);
    pub fn fnn_attack_errmsg(a: *const fnn_attack) -> *const c_char;
    pub fn fnn_attack_set(a: *mut fnn_attack, key: c_int, value: f64) -> c_int;
    pub fn fnn_attack_set_u64(a: *mut fnn_attack, key: c_int, value: u64) -> c_int;
    pub fn fnn_attack_get(a: *const fnn_attack, key: c_int, value: *mut f64) -> c_int;
    pub fn fnn_attack_set_progress(
        a: *mut fnn_attack,
        fn_: Option<AttackProgressFn>,
        user: *mut c_void,
    ) -> c_int;
    pub fn fnn_attack_key_bounds(
        key: c_int,
        lo: *mut f64,
        hi: *mut f64,
        flags: *mut u32,
        names: *mut c_int,
    ) -> c_int;
    pub fn fnn_attack_key_describe(key: c_int, buf: *mut c_char, size: usize) -> usize;
    pub fn fnn_attack_train(a: *mut fnn_attack) -> c_int;
    pub fn fnn_attack_unlearn(
        base: *const fnn_attack,
        forget: *const u8,
        n: usize,
        unlearn: *const fnn_forget_options,
        out: *mut *mut fnn_attack,
        err: *mut c_char,
        err_size: usize,
    ) -> c_int;
    pub fn fnn_attack_shadows_trained(a: *const fnn_attack) -> u32;
    pub fn fnn_attack_scores(
        a: *mut fnn_attack,
        target: *const fnn_model,
        scores: *mut f64,
        n: usize,
    ) -> c_int;
    pub fn fnn_attack_evaluate(
        a: *mut fnn_attack,
        target: *const fnn_model,
        member: *const u8,
        n: usize,
        auc: *mut f64,
        tpr_1: *mut f64,
        tpr_01: *mut f64,
    ) -> c_int;
}
