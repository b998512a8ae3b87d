//! Rust bindings of the `importer-world` WIT world, generated at compile time. Importer
//! authors use the rest of the crate instead.

wit_bindgen::generate!({
    world: "importer-world",
    path: "wit",
    pub_export_macro: true,
    export_macro_name: "export_guest",
    default_bindings_module: "$crate::bindings",
});
