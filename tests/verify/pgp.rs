//! The `pgp` factor against signatures made by a real GnuPG at test time:
//! each attack beside the valid message it imitates, which must pass.


use crate::support::gpg::Gpg;
use triaged::message::Message;
use triaged::verify::Outcome;
use triaged::verify::pgp::check_pgp;

const REQUEST: &str = "Hello,\n\nplease delete my account alice.\n\nAlice\n";

fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

fn header(extra: &str) -> String {
    format!(
        "From: Alice <alice@example.org>\r\nTo: support@example.net\r\nSubject: delete my account\r\n\
         Message-ID: <req@example.org>\r\nMIME-Version: 1.0\r\n{extra}"
    )
}

fn inline_mail(body: &str) -> Message {
    let raw = format!(
        "{}Content-Type: text/plain; charset=utf-8\r\n\r\n{}",
        header(""),
        crlf(body)
    );
    Message::parse(raw.into_bytes()).unwrap()
}

/// The signed MIME entity of a PGP/MIME message, exactly as signed.
fn signed_part(text: &str) -> String {
    format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{}",
        crlf(text)
    )
}

fn multipart_signed(part: &str, signature: &str) -> String {
    format!(
        "Content-Type: multipart/signed; micalg=pgp-sha256;\r\n protocol=\"application/pgp-signature\"; boundary=\"sig-b\"\r\n\r\n\
         This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n\
         --sig-b\r\n{part}\r\n--sig-b\r\n\
         Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\
         Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n{}\r\n--sig-b--\r\n",
        crlf(signature)
    )
}

fn pgp_mime_mail(part: &str, signature: &str) -> Message {
    Message::parse(format!("{}{}", header(""), multipart_signed(part, signature)).into_bytes())
        .unwrap()
}

/// `multipart/mixed` of the given entities (each: headers, blank line, body).
fn mixed_mail(parts: &[String]) -> Message {
    let mut raw = format!(
        "{}Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n",
        header("")
    );
    for p in parts {
        raw.push_str(&format!("--m\r\n{}\r\n", crlf(p)));
    }
    raw.push_str("--m--\r\n");
    Message::parse(raw.into_bytes()).unwrap()
}

#[track_caller]
fn assert_pass(msg: &Message, keys: &[String]) {
    let f = check_pgp(msg, keys);
    assert_eq!(f.result, Outcome::Pass, "expected pass, got {f:?}");
}

#[track_caller]
fn assert_fail(msg: &Message, keys: &[String], why: &str) {
    let f = check_pgp(msg, keys);
    assert_eq!(f.result, Outcome::Fail, "expected fail, got {f:?}");
    assert!(
        f.reason.contains(why),
        "reason {:?} should mention {why:?}",
        f.reason
    );
}

struct Alice {
    gpg: Gpg,
    fpr: String,
    keys: Vec<String>,
}

fn alice() -> Alice {
    let gpg = Gpg::new();
    let fpr = gpg.key("Alice <alice@example.org>", "ed25519", "0", &[]);
    let keys = vec![gpg.export(&fpr)];
    Alice { gpg, fpr, keys }
}

#[test]
fn inline_ed25519_signature_by_registered_key_passes() {
    let a = alice();
    let signed = a.gpg.clearsign(&a.fpr, REQUEST, &[]);
    let f = check_pgp(&inline_mail(&signed), &a.keys);
    assert!(f.passed(), "{f:?}");
    assert!(
        f.reason.contains(&a.fpr),
        "reason names the key: {}",
        f.reason
    );
    // Trailing blank lines and spaces are not text the user wrote.
    assert_pass(&inline_mail(&format!("\n  \n{signed}\n   \n\n")), &a.keys);
}

#[test]
fn pgp_mime_signature_passes_with_crlf_and_with_bare_lf() {
    let a = alice();
    let part = signed_part(REQUEST);
    let sig = a.gpg.detach_sign(&a.fpr, part.as_bytes(), &[]);
    assert_pass(&pgp_mime_mail(&part, &sig), &a.keys);
    // A message stored with bare LF is canonicalised back to CRLF (RFC 3156 sec. 5).
    let lf = format!("{}{}", header(""), multipart_signed(&part, &sig)).replace("\r\n", "\n");
    assert_pass(&Message::parse(lf.into_bytes()).unwrap(), &a.keys);
}

/// An HTML-only body (Thunderbird signs HTML mail so) is read the same
/// way inside the signed part as in the whole message: blocks on lines of
/// their own, a `blockquote` as quoted lines.
#[test]
fn pgp_mime_signature_over_an_html_body_with_a_quote_passes() {
    let a = alice();
    let part = "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
                <div>Hello,</div><div>please delete my account alice.</div>\
                <div class=\"moz-cite-prefix\">On 01.12.26 Support wrote:</div><blockquote type=\"cite\">Which account?</blockquote>\r\n";
    let sig = a.gpg.detach_sign(&a.fpr, part.as_bytes(), &[]);
    let msg = pgp_mime_mail(part, &sig);
    assert!(msg.text.contains("> Which account?"), "{:?}", msg.text);
    assert_pass(&msg, &a.keys);
}

#[test]
fn no_signature_is_none() {
    let a = alice();
    let f = check_pgp(&inline_mail(REQUEST), &a.keys);
    assert_eq!(f.result, Outcome::None, "{f:?}");
    let signed = a.gpg.clearsign(&a.fpr, REQUEST, &[]);
    let f = check_pgp(&inline_mail(&signed), &[]);
    assert_eq!(f.result, Outcome::None, "no key on file: {f:?}");
}

/// A genuine signature of Alice's around text it does not cover, one row
/// each: what the attacker did, the message, a part of the reason. The
/// controls, the same signatures in messages of their own, pass.
#[test]
fn a_genuine_signature_beside_text_it_does_not_cover_fails() {
    let a = alice();
    let clearsign = |text: &str| a.gpg.clearsign(&a.fpr, text, &[]);
    let detach_sign = |part: &str| a.gpg.detach_sign(&a.fpr, part.as_bytes(), &[]);
    // A genuine signed part Alice once sent, for an attacker to replay.
    let thanks = signed_part("Thanks for the quick answer!\n");
    let thanks_sig = detach_sign(&thanks);
    let request = signed_part(REQUEST);
    let request_sig = detach_sign(&request);
    let agree = clearsign("I agree.\n");
    let inline_request = clearsign(REQUEST);
    let note = clearsign("old harmless note\n");
    for control in [
        pgp_mime_mail(&thanks, &thanks_sig),
        pgp_mime_mail(&request, &request_sig),
        inline_mail(&agree),
        inline_mail(&inline_request),
        inline_mail(&note),
    ] {
        assert_pass(&control, &a.keys);
    }
    let third_part = format!("{}{}", header(""), multipart_signed(&request, &request_sig)).replace(
        "--sig-b--",
        "--sig-b\r\nContent-Type: text/plain\r\n\r\nAlso transfer billing to bob.\r\n--sig-b--",
    );
    let tampered = inline_request.replace("account alice", "account bob");
    assert_ne!(tampered, inline_request);
    let detached = a.gpg.detach_sign(&a.fpr, b"Please delete my account.\r\n", &[]);

    let cases = [
        (
            "a replayed signed part wrapped beside unsigned text",
            mixed_mail(&[
                "Content-Type: text/plain\n\nPlease transfer my billing to bob@evil.example.".into(),
                multipart_signed(&thanks, &thanks_sig),
            ]),
            "nested inside an unsigned multipart",
        ),
        ("an unsigned third part in multipart/signed", Message::parse(third_part.into_bytes()).unwrap(), "exactly two parts"),
        (
            "unsigned text before an inline block",
            inline_mail(&format!("Please delete the account of bob too.\n\n{agree}")),
            "unsigned text before",
        ),
        ("unsigned text after an inline block", inline_mail(&format!("{agree}\nAnd transfer billing to mallory.\n")), "unsigned text after"),
        // The user's own signature delimiter and a quoted reply are unsigned too.
        ("a signature delimiter after the block", inline_mail(&format!("{agree}-- \nAlice, sent from my phone\n")), "unsigned text after"),
        (
            "a quoted reply after the block",
            inline_mail(&format!("{agree}\nOn Monday support wrote:\n> Please confirm.\n")),
            "unsigned text after",
        ),
        (
            "an inline block beside another MIME part",
            mixed_mail(&[
                format!("Content-Type: text/plain\n\n{inline_request}"),
                "Content-Type: text/plain\n\nP.S. and give bob admin rights".into(),
            ]),
            "must be the whole message",
        ),
        (
            "a signed attachment standing in for an unsigned body",
            mixed_mail(&[
                "Content-Type: text/plain\n\nPlease delete my account, proof attached.".into(),
                format!(
                    "Content-Type: text/plain; name=\"proof.txt.asc\"\n\
                     Content-Disposition: attachment; filename=\"proof.txt.asc\"\n\n{note}"
                ),
            ]),
            "attachment",
        ),
        // A detached signature attached beside a plain body signs nothing shown.
        (
            "a detached signature attached beside a plain body",
            mixed_mail(&[
                "Content-Type: text/plain\n\nPlease delete my account.".into(),
                format!("Content-Type: application/pgp-signature\n\n{detached}"),
            ]),
            "not PGP/MIME signed",
        ),
        ("inline text changed after signing", inline_mail(&tampered), "does not verify"),
        (
            "a PGP/MIME part changed after signing",
            pgp_mime_mail(&request.replace("account alice", "account bob"), &request_sig),
            "does not verify",
        ),
    ];
    for (case, mail, why) in &cases {
        let f = check_pgp(mail, &a.keys);
        assert_eq!(f.result, Outcome::Fail, "{case}: expected fail, got {f:?}");
        assert!(f.reason.contains(why), "{case}: reason {:?} should mention {why:?}", f.reason);
    }
}

#[test]
fn key_whose_user_id_is_the_victims_address_but_not_registered_fails() {
    let a = alice();
    let mallory = Gpg::new();
    let fake = mallory.key("Alice <alice@example.org>", "ed25519", "0", &[]);
    let forged = mallory.clearsign(&fake, REQUEST, &[]);
    assert_fail(&inline_mail(&forged), &a.keys, "not registered");
    assert_pass(
        &inline_mail(&a.gpg.clearsign(&a.fpr, REQUEST, &[])),
        &a.keys,
    );
}

#[test]
fn unregistered_key_fails_and_its_own_registration_passes() {
    let a = alice();
    let bob = a.gpg.key("Bob <bob@example.org>", "ed25519", "0", &[]);
    let signed = a.gpg.clearsign(&bob, REQUEST, &[]);
    assert_fail(&inline_mail(&signed), &a.keys, "not registered");
    let part = signed_part(REQUEST);
    let sig = a.gpg.detach_sign(&bob, part.as_bytes(), &[]);
    assert_fail(&pgp_mime_mail(&part, &sig), &a.keys, "not registered");
    assert_pass(&inline_mail(&signed), &[a.gpg.export(&bob)]);
}

#[test]
fn rsa_key_with_sha1_digest_fails_and_with_sha256_passes() {
    let gpg = Gpg::new();
    let fpr = gpg.key("Alice <alice@example.org>", "rsa2048", "0", &[]);
    let keys = vec![gpg.export(&fpr)];
    let good = gpg.clearsign(&fpr, REQUEST, &["--digest-algo", "SHA256"]);
    assert_pass(&inline_mail(&good), &keys);
    let weak = gpg.clearsign(
        &fpr,
        REQUEST,
        &["--digest-algo", "SHA1", "--allow-weak-digest-algos"],
    );
    assert_fail(&inline_mail(&weak), &keys, "SHA1");
    let part = signed_part(REQUEST);
    let weak = gpg.detach_sign(
        &fpr,
        part.as_bytes(),
        &["--digest-algo", "SHA1", "--allow-weak-digest-algos"],
    );
    assert_fail(&pgp_mime_mail(&part, &weak), &keys, "too weak");
    let good = gpg.detach_sign(&fpr, part.as_bytes(), &["--digest-algo", "SHA512"]);
    assert_pass(&pgp_mime_mail(&part, &good), &keys);
}

#[test]
fn revoked_key_fails_even_for_a_signature_made_before_revocation() {
    let a = alice();
    let signed = a.gpg.clearsign(&a.fpr, REQUEST, &[]);
    assert_pass(&inline_mail(&signed), &a.keys);
    a.gpg.revoke(&a.fpr);
    let revoked = vec![a.gpg.export(&a.fpr)];
    assert_fail(&inline_mail(&signed), &revoked, "revoked");
}

#[test]
fn expired_key_fails_and_unexpired_key_passes() {
    let gpg = Gpg::new();
    let past = ["--faked-system-time", "20200101T000000!"];
    let old = gpg.key("Alice <alice@example.org>", "ed25519", "1d", &past);
    let signed = gpg.clearsign(&old, REQUEST, &past);
    assert_fail(
        &inline_mail(&signed),
        &[gpg.export(&old)],
        "expired on 2020-01-02",
    );
    let current = gpg.key("Alice2 <alice@example.org>", "ed25519", "1y", &[]);
    let signed = gpg.clearsign(&current, REQUEST, &[]);
    assert_pass(&inline_mail(&signed), &[gpg.export(&current)]);
}

#[test]
fn signing_subkey_of_a_registered_key_passes() {
    let a = alice();
    a.gpg
        .run(&["--quick-add-key", &a.fpr, "ed25519", "sign", "0"], b"");
    let fprs = a.gpg.fingerprints(&a.fpr);
    let sub = fprs.last().unwrap().clone();
    assert_ne!(sub, a.fpr);
    let signed = a.gpg.clearsign(&format!("{sub}!"), REQUEST, &[]);
    let keys = vec![a.gpg.export(&a.fpr)];
    let f = check_pgp(&inline_mail(&signed), &keys);
    assert!(f.passed(), "{f:?}");
    assert!(f.reason.contains(&format!("subkey {sub}")), "{}", f.reason);
    // Registered keys that do not include this subkey do not count.
    let other = Gpg::new();
    let other_fpr = other.key("Alice <alice@example.org>", "ed25519", "0", &[]);
    assert_fail(
        &inline_mail(&signed),
        &[other.export(&other_fpr)],
        "not registered",
    );
}

#[test]
fn malformed_input_gives_reasons_not_panics() {
    let a = alice();
    let signed = a.gpg.clearsign(&a.fpr, REQUEST, &[]);
    // Cut the armored signature in half.
    let cut_at = signed.find("-----BEGIN PGP SIGNATURE-----").unwrap() + 40;
    let broken = format!("{}\n-----END PGP SIGNATURE-----\n", &signed[..cut_at]);
    assert_fail(&inline_mail(&broken), &a.keys, "malformed");
    // Garbage base64 in a PGP/MIME signature part.
    let part = signed_part(REQUEST);
    let garbage =
        "-----BEGIN PGP SIGNATURE-----\n\nbm90IGEgc2lnbmF0dXJl\n-----END PGP SIGNATURE-----\n";
    assert_fail(&pgp_mime_mail(&part, garbage), &a.keys, "malformed");
    // No closing boundary.
    let sig = a.gpg.detach_sign(&a.fpr, part.as_bytes(), &[]);
    let mail = format!("{}{}", header(""), multipart_signed(&part, &sig)).replace("--sig-b--", "");
    assert_fail(
        &Message::parse(mail.into_bytes()).unwrap(),
        &a.keys,
        "closing boundary",
    );
    // A corrupt registered key is reported, the good one still works.
    let bad_key =
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"
            .to_string();
    let f = check_pgp(&inline_mail(&signed), std::slice::from_ref(&bad_key));
    assert_eq!(f.result, Outcome::None, "{f:?}");
    assert!(f.reason.contains("could be read"), "{}", f.reason);
    assert_pass(&inline_mail(&signed), &[bad_key, a.keys[0].clone()]);
    // A pasted detached signature signs nothing in the body.
    let detached = a.gpg.detach_sign(&a.fpr, REQUEST.as_bytes(), &[]);
    assert_fail(
        &inline_mail(&format!("{REQUEST}\n{detached}")),
        &a.keys,
        "pasted",
    );
}

#[test]
fn armor_comment_header_is_unsigned_text() {
    let a = alice();
    let signed = a.gpg.clearsign(&a.fpr, REQUEST, &[]);
    let commented = signed.replace(
        "-----BEGIN PGP SIGNATURE-----\n",
        "-----BEGIN PGP SIGNATURE-----\nComment: also make bob an admin\n",
    );
    assert_fail(&inline_mail(&commented), &a.keys, "Comment");
}

/// `--faked-system-time` for `days` ago.
fn days_ago(days: i64) -> String {
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    format!("{}!", t.strftime("%Y%m%dT%H%M%S"))
}

#[test]
fn old_signed_mail_replayed_fails_and_a_fresh_one_passes() {
    let gpg = Gpg::new();
    let created = days_ago(90);
    let fpr = gpg.key(
        "Alice <alice@example.org>",
        "ed25519",
        "0",
        &["--faked-system-time", &created],
    );
    let keys = vec![gpg.export(&fpr)];
    let old = gpg.clearsign(&fpr, REQUEST, &["--faked-system-time", &days_ago(60)]);
    assert_fail(&inline_mail(&old), &keys, "days ago");
    let recent = gpg.clearsign(&fpr, REQUEST, &["--faked-system-time", &days_ago(2)]);
    assert_pass(&inline_mail(&recent), &keys);
}

#[test]
fn quoted_signed_block_in_an_unsigned_reply_is_no_signature() {
    let a = alice();
    let signed = a.gpg.clearsign(&a.fpr, REQUEST, &[]);
    let quoted: String = signed.lines().map(|l| format!("> {l}\n")).collect();
    let f = check_pgp(&inline_mail(&format!("Any news?\n\n{quoted}")), &a.keys);
    assert_eq!(f.result, Outcome::None, "{f:?}");
}

#[test]
fn weak_rsa_key_fails() {
    let gpg = Gpg::new();
    let fpr = gpg.key("Alice <alice@example.org>", "rsa1024", "0", &[]);
    let signed = gpg.clearsign(&fpr, REQUEST, &[]);
    assert_fail(
        &inline_mail(&signed),
        &[gpg.export(&fpr)],
        "weak 1024-bit RSA",
    );
}

#[test]
fn pgp_mime_with_signed_attachments_inside_passes_but_a_signed_attachment_as_body_fails() {
    let a = alice();
    let part = crlf(
        "Content-Type: multipart/mixed; boundary=\"inner\"\n\n--inner\nContent-Type: text/plain\n\n\
         Please delete my account; the invoice is attached.\n--inner\n\
         Content-Type: application/pdf; name=\"invoice.pdf\"\nContent-Disposition: attachment; filename=\"invoice.pdf\"\n\
         Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--inner--\n",
    );
    let sig = a.gpg.detach_sign(&a.fpr, part.as_bytes(), &[]);
    assert_pass(&pgp_mime_mail(&part, &sig), &a.keys);
    let as_attachment = crlf(
        "Content-Type: text/plain; name=\"old.txt\"\nContent-Disposition: attachment; filename=\"old.txt\"\n\n\
         I agree.\n",
    );
    let sig = a.gpg.detach_sign(&a.fpr, as_attachment.as_bytes(), &[]);
    assert_fail(&pgp_mime_mail(&as_attachment, &sig), &a.keys, "signed part");
}

/// A mailing list that adds its footer as a part of its own wraps the
/// author's PGP/MIME message in multipart/mixed. Seen whole, that is a
/// signed part inside an unsigned multipart, refused; with the footer part
/// dropped the author's signed text verifies, and only it is read.
#[test]
fn a_list_footer_part_outside_the_signed_part_is_dropped_not_trusted() {
    use triaged::verify::list::without_footer_part;
    let a = alice();
    let part = signed_part(REQUEST);
    let sig = a.gpg.detach_sign(&a.fpr, part.as_bytes(), &[]);
    let footer = "Content-Type: text/plain; charset=\"us-ascii\"\nContent-Transfer-Encoding: 7bit\n\n_______________________________________________\nsr.ht-support mailing list -- sr.ht-support@lists.example.net\n".to_string();
    let wrapped = mixed_mail(&[multipart_signed(&part, &sig), footer.clone()]);
    assert_fail(&wrapped, &a.keys, "nested inside an unsigned multipart");
    let view = without_footer_part(&wrapped).expect("the list's shape is recognised");
    assert_pass(&view, &a.keys);
    assert_eq!(view.text.trim(), crlf(REQUEST).trim());
    assert_eq!(view.subject, "delete my account");
    assert_eq!(view.single_from().unwrap().email, "alice@example.org");

    // Any other shape is left alone: unsigned text first, a third part, a
    // footer that is an attachment, or nothing signed at all.
    let before = mixed_mail(&[footer.clone(), multipart_signed(&part, &sig)]);
    assert!(without_footer_part(&before).is_none());
    let three = mixed_mail(&[multipart_signed(&part, &sig), footer.clone(), footer.clone()]);
    assert!(without_footer_part(&three).is_none());
    let attached = footer.replacen("\n\n", "\nContent-Disposition: attachment; filename=\"x.txt\"\n\n", 1);
    assert!(without_footer_part(&mixed_mail(&[multipart_signed(&part, &sig), attached])).is_none());
    assert!(without_footer_part(&mixed_mail(&[part.clone(), footer])).is_none());
    assert!(without_footer_part(&pgp_mime_mail(&part, &sig)).is_none());
}
