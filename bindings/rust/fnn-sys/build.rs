//! Finds libfnn and tells cargo how to link it, with the pkg-config program
//! (no crate from a registry).
//!
//! - `FNN_LIB_DIR`: the directory of libfnn.so / libfnn.a; pkg-config is then
//!   asked only for the static dependencies.
//! - `FNN_STATIC=1`: link libfnn.a and, from `pkg-config --static`, what it
//!   needs (OpenBLAS, LAPACKE, zlib, libm, threads): the program then runs
//!   wherever those system libraries are, whatever the prefix libfnn was
//!   installed to. Otherwise libfnn.so is linked; a program run from a
//!   non-system prefix then needs the library on its loader path (rpath or
//!   LD_LIBRARY_PATH), which a build script cannot give the final binary.
//! - `PKG_CONFIG_PATH` as pkg-config reads it (fnn.pc of the prefix).
//!
//! The library directory is published to dependents' build scripts as
//! `DEP_FNN_LIBDIR` (links = "fnn").
use std::env;
use std::process::Command;

fn pkg_config(args: &[&str]) -> Option<String> {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let out = Command::new(program).args(args).arg("fnn").output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    for var in ["FNN_LIB_DIR", "FNN_STATIC", "PKG_CONFIG_PATH", "PKG_CONFIG"] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    // What fnn.pc says is read again when the file changes.
    if let Some(pc) = pkg_config(&["--path"]) {
        println!("cargo:rerun-if-changed={}", pc);
    }
    let statik = env::var("FNN_STATIC").map(|v| v == "1").unwrap_or(false);
    let libdir = match env::var("FNN_LIB_DIR") {
        Ok(dir) => dir,
        Err(_) => match pkg_config(&["--variable=libdir"]) {
            Some(dir) => {
                // An uninstalled build tree's fnn.pc names the directory in
                // its Libs rather than in libdir.
                let libs = pkg_config(&["--libs-only-L"]).unwrap_or_default();
                libs.split_whitespace()
                    .find_map(|f| f.strip_prefix("-L").map(str::to_string))
                    .unwrap_or(dir)
            }
            None => panic!(
                "libfnn not found: install it and set PKG_CONFIG_PATH to the directory of \
                 fnn.pc, or set FNN_LIB_DIR to the directory of libfnn.so"
            ),
        },
    };
    println!("cargo:rustc-link-search=native={}", libdir);
    println!("cargo:libdir={}", libdir);
    if statik {
        println!("cargo:rustc-link-lib=static=fnn");
        let libs = pkg_config(&["--static", "--libs"])
            .unwrap_or_else(|| "-lopenblas -llapacke -lz -lm -pthread".to_string());
        for flag in libs.split_whitespace() {
            if let Some(dir) = flag.strip_prefix("-L") {
                println!("cargo:rustc-link-search=native={}", dir);
            } else if let Some(name) = flag.strip_prefix("-l") {
                if name != "fnn" {
                    println!("cargo:rustc-link-lib=dylib={}", name);
                }
            } else if flag == "-pthread" {
                println!("cargo:rustc-link-lib=dylib=pthread");
            }
        }
    } else {
        println!("cargo:rustc-link-lib=dylib=fnn");
    }
}
