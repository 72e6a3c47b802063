// The shell's commands: every entry of `shoebox_api::COMMANDS` (one Tauri
// command each, delegating to `dispatch`), then the shell's own
// (`reveal_library`). Included by build.rs (permissions) and src/lib.rs
// (the commands); a test checks the list against `shoebox_api::COMMANDS`.
// `reveal` is written out by hand in src/lib.rs: after `dispatch` it opens
// the folder in the OS file manager.
macro_rules! with_commands {
    ($m:ident) => {
        $m! {
            status,
            first_run,
            first_run_done,
            errors,
            scan,
            timeline,
            photo,
            reveal,
            search,
            similar,
            tags,
            tag_photos,
            tag_add,
            tag_remove,
            tag_confirm,
            tag_reject,
            custom_tag_create,
            custom_tag_remove,
            dupes,
            dupes_resolve,
            dupes_resolve_all,
            dupes_keep_all,
            dupes_not_duplicates,
            dupes_history,
            dupes_undo,
            folders,
            folders_add,
            folders_remove,
            settings_get,
            settings_set,
            settings_clear_previews,
            models,
            model_download,
            model_download_cancel,
            model_choose,
            model_add,
            prioritize,
            jobs_pause,
            jobs_resume,
            reveal_library,
        }
    };
}
