//! The GUI's tests: the real app driven headless with egui_kittest, and its parts (views,
//! editors, sessions, exports) on small problems.

mod app;
mod chains;
mod chains_follow;
mod compare;
mod editor;
mod lesson;
mod priority;
mod remembered;
mod session;
mod structure;
mod support;
mod tile;
mod views;
