//! The desktop app's command-line options (`gibbs-fa` with no subcommand).

use std::path::PathBuf;

use gibbs_fa::gui::AppOptions;

/// Options for the desktop app given on the command line.
#[derive(clap::Args, Debug, Default)]
pub struct GuiArgs {
    /// Data to open in the app: a folder holding MNIST, an IDX or CSV file, or a folder of PNGs.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Start sampling as soon as the experiment is built.
    #[arg(long)]
    pub autostart: bool,
    /// Number of images N for this start (overrides the remembered value).
    #[arg(long = "images", value_name = "N", hide = true)]
    pub n: Option<usize>,
    /// With --images above the data's size: fill up to N with copies shifted by up to 2 pixels.
    #[arg(long, hide = true)]
    pub tile_shifts: bool,
    /// Number of factors M for this start (overrides the remembered value).
    #[arg(long = "factors", value_name = "M", hide = true)]
    pub m: Option<usize>,
    /// Print UI frame times to stderr every two seconds.
    #[arg(long, hide = true)]
    pub frame_log: bool,
    /// Ignore the remembered settings (reproducible screenshots).
    #[arg(long, hide = true)]
    pub fresh: bool,
    /// Close the window after this many seconds, as a user would (measuring the exit).
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub close_after: Option<f64>,
    /// A saved session to reopen (a .gibbsfa file written by "Save session…").
    #[arg(long, value_name = "FILE")]
    pub session: Option<PathBuf>,
}

impl GuiArgs {
    /// The app's options for this start.
    pub fn into_options(self) -> AppOptions {
        AppOptions {
            data: self.data,
            autostart: self.autostart,
            n: self.n,
            m: self.m,
            tile_shifts: self.tile_shifts,
            frame_log: self.frame_log,
            fresh: self.fresh,
            close_after: self
                .close_after
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(std::time::Duration::from_secs_f64),
            session: self.session,
        }
    }
}
