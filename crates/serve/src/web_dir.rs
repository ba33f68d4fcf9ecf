//! `serve --web-dir DIR`: the page from the static folder that `crates/web/build-site.sh`
//! builds (the network compiled to WebAssembly, computing in the browser) instead of the
//! embedded one (computing here), beside the same JSON API.

use std::path::{Path, PathBuf};

use axum::Router;
use tower_http::services::ServeDir;

/// Files the static folder must hold: the page, its JavaScript glue and the WebAssembly module.
pub const WEB_FILES: [&str; 3] = ["index.html", "web.js", "web_bg.wasm"];

/// A folder checked to hold [`WEB_FILES`].
#[derive(Debug, Clone)]
pub struct WebDir {
    path: PathBuf,
}

/// Why a folder is not a built page.
#[derive(Debug, thiserror::Error)]
pub enum WebDirError {
    /// The path is not a directory.
    #[error("{0}: not a directory (build one with crates/web/build-site.sh)")]
    NotADirectory(PathBuf),
    /// A file of the page is missing.
    #[error("{dir}: no {file}; is it the folder crates/web/build-site.sh writes?")]
    Missing {
        /// The folder.
        dir: PathBuf,
        /// The missing file.
        file: &'static str,
    },
}

impl WebDir {
    /// `path`, if it holds the built page.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WebDirError> {
        let path = path.as_ref();
        if !path.is_dir() {
            return Err(WebDirError::NotADirectory(path.into()));
        }
        for file in WEB_FILES {
            if !path.join(file).is_file() {
                return Err(WebDirError::Missing {
                    dir: path.into(),
                    file,
                });
            }
        }
        Ok(Self { path: path.into() })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `router` with every path it does not answer served from the folder (`/` is its
    /// `index.html`). tower-http's `ServeDir` refuses paths that leave the folder, answers only
    /// GET and HEAD, and streams files without reading them whole.
    pub(crate) fn serve_beside<S: Clone + Send + Sync + 'static>(
        &self,
        router: Router<S>,
    ) -> Router<S> {
        router.fallback_service(ServeDir::new(&self.path).append_index_html_on_directories(true))
    }
}
