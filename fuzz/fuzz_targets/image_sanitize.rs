#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| omw_chat::fuzzing::image_sanitize(data));
