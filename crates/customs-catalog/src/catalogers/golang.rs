//! Go binaries: the module build information the Go linker embeds
//! (`runtime/debug.BuildInfo`), read the way Go's
//! [`debug/buildinfo`](https://pkg.go.dev/debug/buildinfo) reads it: the
//! `\xff Go buildinf:` header, then inline strings (Go 1.18+) or pointers to
//! string headers (older), in ELF, Mach-O and PE files alike.

use std::sync::LazyLock;

use customs_sbom::{Package, PackageType, purl};
use object::{Object as _, ObjectSegment as _};

use crate::cataloger::{CatalogError, FileInput};

const NAME: &str = "go-module-binary-cataloger";
const MAGIC: &[u8; 14] = b"\xff Go buildinf:";

/// Whether the first bytes are those of an executable format.
pub(crate) fn is_executable(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
        || head.starts_with(b"MZ")
        || [
            [0xfe, 0xed, 0xfa, 0xce],
            [0xfe, 0xed, 0xfa, 0xcf],
            [0xce, 0xfa, 0xed, 0xfe],
            [0xcf, 0xfa, 0xed, 0xfe],
            [0xca, 0xfe, 0xba, 0xbe],
        ]
        .iter()
        .any(|m| head.starts_with(m))
}

/// What the build information says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.20.7`.
    pub go_version: String,
    /// The main package path (`path` line).
    pub path: String,
    /// The main module and its version (`mod` line).
    pub main: Option<(String, String)>,
    /// Dependencies after replacements: (path, version).
    pub deps: Vec<(String, String)>,
    /// `build` settings.
    pub settings: Vec<(String, String)>,
}

fn varint(data: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

fn inline_string<'a>(data: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = usize::try_from(varint(data, at)?).ok()?;
    let s = data.get(*at..at.checked_add(len)?)?;
    *at += len;
    Some(s)
}

/// Maps a virtual address to file bytes through the object's segments.
fn read_at_vaddr<'a>(
    file: &object::File<'a>,
    data: &'a [u8],
    address: u64,
    len: u64,
) -> Option<&'a [u8]> {
    for segment in file.segments() {
        let start = segment.address();
        let (offset, size) = segment.file_range();
        if address >= start && address.checked_add(len)? <= start.checked_add(size)? {
            let from = usize::try_from(offset.checked_add(address - start)?).ok()?;
            return data.get(from..from.checked_add(usize::try_from(len).ok()?)?);
        }
    }
    None
}

fn pointer(bytes: &[u8], size: usize, big_endian: bool) -> Option<u64> {
    let b = bytes.get(..size)?;
    Some(match (size, big_endian) {
        (4, false) => u64::from(u32::from_le_bytes(b.try_into().ok()?)),
        (4, true) => u64::from(u32::from_be_bytes(b.try_into().ok()?)),
        (8, false) => u64::from_le_bytes(b.try_into().ok()?),
        (8, true) => u64::from_be_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// Reads a Go string header (pointer, length) at `address`.
fn go_string<'a>(
    file: &object::File<'a>,
    data: &'a [u8],
    address: u64,
    ptr_size: usize,
    big_endian: bool,
) -> Option<&'a [u8]> {
    let header = read_at_vaddr(file, data, address, 2 * ptr_size as u64)?;
    let ptr = pointer(header, ptr_size, big_endian)?;
    let len = pointer(&header[ptr_size..], ptr_size, big_endian)?;
    if len > 16 << 20 {
        return None;
    }
    read_at_vaddr(file, data, ptr, len)
}

/// Extracts the Go version and module information string.
///
/// # Errors
/// When there is a build info header but it cannot be read.
pub fn raw_buildinfo(data: &[u8]) -> Result<Option<(String, String)>, CatalogError> {
    let Some(start) = (0..data.len().saturating_sub(32))
        .step_by(16)
        .find(|&i| data[i..].starts_with(MAGIC))
    else {
        return Ok(None);
    };
    let header = &data[start..];
    let ptr_size = usize::from(header[14]);
    let flags = header[15];
    let bad = |what: &str| CatalogError::Malformed(format!("Go build info: {what}"));
    let (version, modinfo) = if flags & 2 != 0 {
        let mut at = start + 32;
        let version =
            inline_string(data, &mut at).ok_or_else(|| bad("truncated version string"))?;
        let modinfo = inline_string(data, &mut at).ok_or_else(|| bad("truncated module string"))?;
        (version, modinfo)
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(bad("invalid pointer size"));
        }
        let file = object::File::parse(data).map_err(|_| {
            bad("pointer-format build info in a file that is not ELF, Mach-O or PE")
        })?;
        let big_endian = flags & 1 != 0;
        let version_ptr =
            pointer(&header[16..], ptr_size, big_endian).ok_or_else(|| bad("truncated header"))?;
        let modinfo_ptr = pointer(&header[16 + ptr_size..], ptr_size, big_endian)
            .ok_or_else(|| bad("truncated header"))?;
        let version = go_string(&file, data, version_ptr, ptr_size, big_endian)
            .ok_or_else(|| bad("version pointer outside the file"))?;
        let modinfo = go_string(&file, data, modinfo_ptr, ptr_size, big_endian)
            .ok_or_else(|| bad("module pointer outside the file"))?;
        (version, modinfo)
    };
    // The module string is framed by 16-byte sentinels.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    Ok(Some((
        String::from_utf8_lossy(version).into_owned(),
        String::from_utf8_lossy(modinfo).into_owned(),
    )))
}

/// Parses the module information text (`path`, `mod`, `dep`, `=>`, `build` lines).
#[must_use]
pub fn parse_modinfo(go_version: &str, text: &str) -> BuildInfo {
    let mut info = BuildInfo {
        go_version: go_version.to_owned(),
        ..BuildInfo::default()
    };
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["path", path, ..] => info.path = (*path).to_owned(),
            ["mod", path, version, ..] => {
                info.main = Some(((*path).to_owned(), (*version).to_owned()))
            }
            ["dep", path, version, ..] => {
                info.deps.push(((*path).to_owned(), (*version).to_owned()))
            }
            ["=>", path, version, ..] => {
                if let Some(last) = info.deps.last_mut() {
                    *last = ((*path).to_owned(), (*version).to_owned());
                }
            }
            ["build", setting] => {
                if let Some((k, v)) = setting.split_once('=') {
                    info.settings.push((k.to_owned(), v.to_owned()));
                }
            }
            _ => {}
        }
    }
    info
}

/// `pkg:golang/github.com/docker/distribution@v2.8.2#cmd/registry`: the
/// first three path elements name the module, the rest is a subpath.
fn go_purl(path: &str, version: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    let built = if parts.len() >= 3 {
        let namespace = parts[..2].join("/");
        let mut p = purl("golang", Some(&namespace), parts[2], version, &[]);
        if parts.len() > 3 {
            p = p.map(|p| format!("{p}#{}", parts[3..].join("/")));
        }
        p
    } else if parts.len() == 2 {
        purl("golang", Some(parts[0]), parts[1], version, &[])
    } else {
        purl("golang", None, path, version, &[])
    };
    built.unwrap_or_default()
}

/// `-X …Version=v1.2.3` / `-X …Tag=v1.2.3` in the recorded `-ldflags`.
static LDFLAGS_VERSION: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r"\.(?:[gG]it)?(?:[bB]uild)?[vV]ersion=(?:\S+/)*(v?\d+\.\d+\.\d+[-\w.+]*)|\.[tT]ag=(?:\S+/)*(v?\d+\.\d+\.\d+[-\w.+]*)").ok()
});
/// A NUL-delimited version string in the binary's data.
static EMBEDDED_VERSION: LazyLock<Option<regex::bytes::Regex>> = LazyLock::new(|| {
    regex::bytes::Regex::new(r"\x00(?:.L)?(v?\d+\.\d+\.\d+[-\w]*[+\w]*)\x00").ok()
});

/// Go module versions carry a `v`.
fn with_v(version: &str) -> String {
    if version.starts_with('v') {
        version.to_owned()
    } else {
        format!("v{version}")
    }
}

/// A better version for a `(devel)` main module, as syft finds one: from
/// `-ldflags -X …Version=`, from VCS stamps as a pseudo-version, or from a
/// version string in the binary.
fn main_version(info: &BuildInfo, data: &[u8]) -> Option<String> {
    let setting = |k: &str| {
        info.settings
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    if let Some(ldflags) = setting("-ldflags")
        && let Some(c) = LDFLAGS_VERSION.as_ref()?.captures(ldflags)
    {
        let v = c.get(1).or_else(|| c.get(2))?.as_str();
        return Some(with_v(v));
    }
    if let (Some(revision), Some(time)) = (setting("vcs.revision"), setting("vcs.time")) {
        let stamp: String = time.chars().filter(char::is_ascii_digit).take(14).collect();
        if stamp.len() == 14 && revision.len() >= 12 {
            return Some(format!("v0.0.0-{stamp}-{}", &revision[..12]));
        }
    }
    let found = EMBEDDED_VERSION
        .as_ref()?
        .captures(data)?
        .get(1)?
        .as_bytes();
    let v = String::from_utf8_lossy(found);
    Some(with_v(&v))
}

/// The Go modules of a binary's build information (none when it has none).
///
/// # Errors
/// When the binary has a build information header that cannot be read.
pub(crate) fn go_packages(file: &FileInput<'_>) -> Result<Vec<Package>, CatalogError> {
    let Some((version, modinfo)) = raw_buildinfo(file.content)? else {
        return Ok(Vec::new());
    };
    let info = parse_modinfo(&version, &modinfo);
    let mut packages = Vec::new();
    let mut add = |name: &str, version: &str, main: bool| {
        if name.is_empty() || version.is_empty() {
            return;
        }
        let mut p = Package::new(
            PackageType::GoModule,
            name,
            version,
            go_purl(name, version),
            NAME,
            file.path,
        );
        if main {
            p.metadata
                .insert("main-module".to_owned(), "true".to_owned());
        }
        if !info.go_version.is_empty() {
            p.metadata
                .insert("go-version".to_owned(), info.go_version.clone());
        }
        packages.push(p);
    };
    for (path, version) in &info.deps {
        add(path, version, false);
    }
    // Without a `mod` line (GOPATH builds) the main package path stands in.
    let (main_path, main_version_text) = info
        .main
        .clone()
        .unwrap_or_else(|| (info.path.clone(), "(devel)".to_owned()));
    let version = if main_version_text == "(devel)" {
        main_version(&info, file.content).unwrap_or(main_version_text)
    } else {
        main_version_text
    };
    add(&main_path, &version, true);
    if let Some(go) = info.go_version.strip_prefix("go") {
        let go = go.split([' ', '+']).next().unwrap_or(go);
        let mut stdlib = Package::new(
            PackageType::GoModule,
            "stdlib",
            &info.go_version,
            purl("golang", None, "stdlib", go, &[]).unwrap_or_default(),
            NAME,
            file.path,
        );
        stdlib.licenses.push("BSD-3-Clause".to_owned());
        packages.push(stdlib);
    }
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal Go 1.18+ build info blob, as the linker lays it out.
    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut data = vec![0u8; 64];
        let mut header = MAGIC.to_vec();
        header.extend([8, 2]);
        header.resize(32, 0);
        data.extend(header);
        for s in [
            version.as_bytes().to_vec(),
            format!("{}{modinfo}{}", "0".repeat(16), "1".repeat(16)).into_bytes(),
        ] {
            let mut len = s.len();
            loop {
                let byte = (len & 0x7f) as u8;
                len >>= 7;
                data.push(if len > 0 { byte | 0x80 } else { byte });
                if len == 0 {
                    break;
                }
            }
            data.extend(s);
        }
        data.extend([0u8; 64]);
        data
    }

    #[test]
    fn reads_inline_build_info() {
        let modinfo = "path\tgithub.com/evanw/esbuild/cmd/esbuild\nmod\tgithub.com/evanw/esbuild\t(devel)\t\ndep\tgolang.org/x/sys\tv0.0.0-20220715151400-c0bba94af5f8\th1:x=\ndep\told/mod\tv1.0.0\th1:y=\n=>\tnew/mod\tv1.1.0\th1:z=\nbuild\tvcs.revision=22f0818cf81024b63752d815c51fe737612b43ec\nbuild\tvcs.time=2023-08-08T04:14:26Z\n";
        let data = blob("go1.20.7", modinfo);
        let (version, text) = raw_buildinfo(&data).unwrap().unwrap();
        assert_eq!(version, "go1.20.7");
        let info = parse_modinfo(&version, &text);
        assert_eq!(
            info.deps,
            [
                (
                    "golang.org/x/sys".to_owned(),
                    "v0.0.0-20220715151400-c0bba94af5f8".to_owned()
                ),
                ("new/mod".to_owned(), "v1.1.0".to_owned())
            ]
        );
        let p = go_packages(&FileInput {
            path: "/bin/esbuild",
            layer: 0,
            mode: 0o755,
            content: &data,
        })
        .unwrap();
        let names: Vec<(&str, &str, &str)> = p
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
            .collect();
        assert!(names.contains(&(
            "github.com/evanw/esbuild",
            "v0.0.0-20230808041426-22f0818cf810",
            "pkg:golang/github.com/evanw/esbuild@v0.0.0-20230808041426-22f0818cf810"
        )));
        assert!(names.contains(&("stdlib", "go1.20.7", "pkg:golang/stdlib@1.20.7")));
        assert!(names.contains(&(
            "golang.org/x/sys",
            "v0.0.0-20220715151400-c0bba94af5f8",
            "pkg:golang/golang.org/x/sys@v0.0.0-20220715151400-c0bba94af5f8"
        )));
    }

    /// A minimal ELF64 executable with one loadable segment holding a
    /// pre-Go-1.18 build info: the header points at Go string headers
    /// (pointer, length) by virtual address.
    fn old_format_elf(version: &str, modinfo: &str) -> Vec<u8> {
        const BASE: u64 = 0x40_0000;
        let header_at = 128usize;
        let strings_at = header_at + 32;
        let version_data = strings_at + 32;
        let modinfo_data = version_data + version.len();
        let framed = format!("{}{modinfo}{}", "0".repeat(16), "1".repeat(16));
        let total = modinfo_data + framed.len();
        let mut f = vec![0u8; total];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2; // 64-bit
        f[5] = 1; // little endian
        f[6] = 1;
        f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        f[18..20].copy_from_slice(&0x3eu16.to_le_bytes()); // x86-64
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        f[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        f[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        let ph = 64;
        f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f[ph + 4..ph + 8].copy_from_slice(&6u32.to_le_bytes());
        f[ph + 16..ph + 24].copy_from_slice(&BASE.to_le_bytes()); // p_vaddr
        f[ph + 24..ph + 32].copy_from_slice(&BASE.to_le_bytes());
        f[ph + 32..ph + 40].copy_from_slice(&(total as u64).to_le_bytes()); // p_filesz
        f[ph + 40..ph + 48].copy_from_slice(&(total as u64).to_le_bytes());
        f[ph + 48..ph + 56].copy_from_slice(&0x1000u64.to_le_bytes());
        let h = header_at;
        f[h..h + 14].copy_from_slice(MAGIC);
        f[h + 14] = 8; // pointer size
        f[h + 15] = 0; // little endian, pointer format
        f[h + 16..h + 24].copy_from_slice(&(BASE + strings_at as u64).to_le_bytes());
        f[h + 24..h + 32].copy_from_slice(&(BASE + strings_at as u64 + 16).to_le_bytes());
        let s = strings_at;
        f[s..s + 8].copy_from_slice(&(BASE + version_data as u64).to_le_bytes());
        f[s + 8..s + 16].copy_from_slice(&(version.len() as u64).to_le_bytes());
        f[s + 16..s + 24].copy_from_slice(&(BASE + modinfo_data as u64).to_le_bytes());
        f[s + 24..s + 32].copy_from_slice(&(framed.len() as u64).to_le_bytes());
        f[version_data..modinfo_data].copy_from_slice(version.as_bytes());
        f[modinfo_data..].copy_from_slice(framed.as_bytes());
        f
    }

    #[test]
    fn reads_pointer_format_build_info_through_elf_segments() {
        let elf = old_format_elf(
            "go1.16.15",
            "path\texample.com/tool\nmod\texample.com/tool\tv1.4.0\th1:a=\ndep\tgithub.com/pkg/errors\tv0.9.1\th1:b=\n",
        );
        assert!(
            object::File::parse(&*elf).is_ok(),
            "the fixture is a valid ELF file"
        );
        let (version, text) = raw_buildinfo(&elf).unwrap().unwrap();
        assert_eq!(version, "go1.16.15");
        let info = parse_modinfo(&version, &text);
        assert_eq!(
            info.main,
            Some(("example.com/tool".to_owned(), "v1.4.0".to_owned()))
        );
        assert_eq!(
            info.deps,
            [("github.com/pkg/errors".to_owned(), "v0.9.1".to_owned())]
        );
        // A pointer outside every segment is an error, not a read elsewhere.
        let mut bad = elf.clone();
        bad[128 + 16..128 + 24].copy_from_slice(&0xdead_0000u64.to_le_bytes());
        assert!(raw_buildinfo(&bad).is_err());
    }

    #[test]
    fn truncated_build_info_is_an_error_and_no_build_info_is_nothing() {
        let data = blob("go1.20.7", "path\tx\n");
        let cut = &data[..64 + 33];
        assert!(raw_buildinfo(cut).is_err());
        assert_eq!(raw_buildinfo(b"\x7fELF not go at all").unwrap(), None);
        assert_eq!(
            go_purl("github.com/docker/distribution/cmd/registry", "v2.8.2+ds1"),
            "pkg:golang/github.com/docker/distribution@v2.8.2%2Bds1#cmd/registry"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let mut data = vec![0u8; 16];
            data.extend(MAGIC);
            data.extend(tail);
            let _ = raw_buildinfo(&data);
        }
    }
}
