//! SPEC "Security and bounds": `/uploads/` and `/static/` never follow a symbolic
//! link, whether it points outside the served directory or inside it: both are 404,
//! as for a missing file.

mod support;

use std::os::unix::fs::symlink;
use support::{Server, copy_dir, get, repo_root, temp_dir};

#[test]
fn static_files_never_follow_a_symlink() {
    let root = temp_dir("nosymlink-static");
    let www = root.join("www");
    copy_dir(&repo_root().join("www"), &www);
    std::fs::write(root.join("secret.txt"), "the-secret-bytes\n").unwrap();
    let st = www.join("static");
    symlink(root.join("secret.txt"), st.join("out.txt")).unwrap();
    symlink("style.css", st.join("in.css")).unwrap();
    symlink(&root, st.join("updir")).unwrap();
    symlink(".", st.join("here")).unwrap();
    let server = Server::start_with_www(&www, &[]);
    // The real file is served...
    server.request(&get("/static/style.css")).assert_status(200);
    // ...but never through a link, out or in, as the last segment or on the way.
    for path in [
        "/static/out.txt",
        "/static/in.css",
        "/static/updir/secret.txt",
        "/static/here/style.css",
    ] {
        let resp = server.request(&get(path));
        resp.assert_status(404);
        assert!(!resp.body_str().contains("the-secret-bytes"), "{path}");
    }
}

#[test]
fn uploads_never_follow_a_symlink() {
    let server = Server::start(&[]);
    let uploads = server.dir.join("data").join("uploads");
    std::fs::write(server.dir.join("secret.txt"), "the-secret-bytes\n").unwrap();
    std::fs::write(uploads.join("real-1.txt"), "real\n").unwrap();
    symlink(server.dir.join("secret.txt"), uploads.join("out-1.txt")).unwrap();
    symlink("real-1.txt", uploads.join("in-1.txt")).unwrap();
    server
        .request(&get("/uploads/real-1.txt"))
        .assert_status(200);
    for path in ["/uploads/out-1.txt", "/uploads/in-1.txt"] {
        let resp = server.request(&get(path));
        resp.assert_status(404);
        assert!(!resp.body_str().contains("the-secret-bytes"), "{path}");
        assert!(!resp.body_str().contains("real\n"), "{path}");
    }
}
