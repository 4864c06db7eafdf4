//! The realistic mix of `bench_mbox --realistic`: what a support mailbox
//! holds after a holiday, for measuring memory on more than short
//! requests. Message `i` is built from `i` alone (attachment bytes aside),
//! so two runs give the same shapes and sizes:
//!
//! - requests in nine languages, the non-English ones quoted-printable
//!   (Japanese base64), their subjects as RFC 2047 encoded words;
//! - every fourth message after the first twenty a reply: `Re:` subject,
//!   In-Reply-To an earlier request of the same sender, a References chain
//!   of 12 to 60 Message-IDs (a long thread), and the thread quoted below;
//! - every message with 4 to 11 Received headers and the usual list and
//!   client headers, so headers are kilobytes, not lines;
//! - every 50th message (from the 15th) a 400 KiB log pasted as a text
//!   attachment (7bit: read whole, as text is);
//! - every 25th message (from the 5th) a base64 attachment of 300 KiB to
//!   7 MiB decoded (PDF, PNG, ZIP, by turns);
//! - every 100th message (from the 60th) a 20 MiB attachment, 27 MiB
//!   encoded: over the default `limits.max_message_bytes` (25 MiB), so the
//!   daemon quarantines it without fetching it.
//!
//! At 1,000 messages that is about 450 MB, two thirds of it in the ten
//! messages quarantined unread.

use rand::RngCore;

/// Subject and body of a request, per language: delete, rename, lost 2FA,
/// refund, and a question no procedure answers.
const REQUESTS: [(&str, [(&str, &str); 5]); 9] = [
    ("en", [
        ("Please delete my account", "I would like my account and all my repositories removed, thanks."),
        ("Rename my account", "Could you rename my account? I changed my name and would like the new username."),
        ("Lost my 2FA device", "I lost my phone and cannot log in. Please disable two-factor authentication on my account."),
        ("Refund request", "I was charged twice this month, please refund the second payment."),
        ("Question about builds", "My builds time out after 45 minutes. Is there a limit I can raise?"),
    ]),
    ("de", [
        ("Bitte mein Konto löschen", "Ich möchte mein Konto und alle meine Repositories löschen lassen. Vielen Dank."),
        ("Benutzernamen ändern", "Könnten Sie meinen Benutzernamen ändern? Ich habe meinen Namen geändert."),
        ("Zwei-Faktor-Gerät verloren", "Ich habe mein Handy verloren und kann mich nicht mehr anmelden. Bitte deaktivieren Sie die Zwei-Faktor-Authentifizierung."),
        ("Rückerstattung", "Mir wurde diesen Monat doppelt abgebucht, bitte erstatten Sie die zweite Zahlung."),
        ("Frage zu Builds", "Meine Builds brechen nach 45 Minuten ab. Gibt es ein Limit, das man erhöhen kann?"),
    ]),
    ("fr", [
        ("Suppression de mon compte", "Je souhaite que mon compte et tous mes dépôts soient supprimés, merci."),
        ("Renommer mon compte", "Pourriez-vous renommer mon compte ? J'ai changé de nom et voudrais un nouvel identifiant."),
        ("Perte de mon appareil 2FA", "J'ai perdu mon téléphone et je ne peux plus me connecter. Merci de désactiver l'authentification à deux facteurs."),
        ("Demande de remboursement", "J'ai été débité deux fois ce mois-ci, merci de rembourser le second paiement."),
        ("Question sur les builds", "Mes builds s'arrêtent après 45 minutes. Y a-t-il une limite que je peux augmenter ?"),
    ]),
    ("es", [
        ("Eliminar mi cuenta", "Quisiera que eliminaran mi cuenta y todos mis repositorios, gracias."),
        ("Cambiar el nombre de mi cuenta", "¿Podrían cambiar el nombre de mi cuenta? Cambié de nombre y quisiera un usuario nuevo."),
        ("Perdí mi dispositivo de 2FA", "Perdí mi teléfono y no puedo iniciar sesión. Por favor desactiven la autenticación de dos factores."),
        ("Solicitud de reembolso", "Me cobraron dos veces este mes, por favor reembolsen el segundo pago."),
        ("Pregunta sobre las compilaciones", "Mis compilaciones se cortan a los 45 minutos. ¿Hay un límite que pueda aumentar?"),
    ]),
    ("it", [
        ("Cancellare il mio account", "Vorrei che il mio account e tutti i miei repository fossero cancellati, grazie."),
        ("Rinominare il mio account", "Potreste rinominare il mio account? Ho cambiato nome e vorrei un nuovo nome utente."),
        ("Ho perso il dispositivo 2FA", "Ho perso il telefono e non riesco ad accedere. Per favore disattivate l'autenticazione a due fattori."),
        ("Richiesta di rimborso", "Mi è stato addebitato due volte questo mese, per favore rimborsate il secondo pagamento."),
        ("Domanda sulle build", "Le mie build si interrompono dopo 45 minuti. C'è un limite che posso aumentare?"),
    ]),
    ("pt", [
        ("Apagar a minha conta", "Gostaria que a minha conta e todos os meus repositórios fossem apagados, obrigado."),
        ("Mudar o nome da conta", "Podem mudar o nome da minha conta? Mudei de nome e queria um novo utilizador."),
        ("Perdi o meu dispositivo 2FA", "Perdi o telemóvel e não consigo entrar. Por favor desativem a autenticação de dois fatores."),
        ("Pedido de reembolso", "Fui cobrado duas vezes este mês, por favor reembolsem o segundo pagamento."),
        ("Pergunta sobre builds", "Os meus builds param ao fim de 45 minutos. Há um limite que possa aumentar?"),
    ]),
    ("nl", [
        ("Verwijder mijn account", "Ik wil graag dat mijn account en al mijn repositories worden verwijderd, bedankt."),
        ("Mijn account hernoemen", "Kunnen jullie mijn account hernoemen? Mijn naam is veranderd en ik wil een nieuwe gebruikersnaam."),
        ("2FA-apparaat kwijt", "Ik ben mijn telefoon kwijt en kan niet inloggen. Schakel alstublieft de tweestapsverificatie uit."),
        ("Terugbetaling", "Ik ben deze maand twee keer afgeschreven, graag de tweede betaling terugstorten."),
        ("Vraag over builds", "Mijn builds stoppen na 45 minuten. Is er een limiet die ik kan verhogen?"),
    ]),
    ("pl", [
        ("Proszę usunąć moje konto", "Chciałbym usunąć moje konto i wszystkie repozytoria, dziękuję."),
        ("Zmiana nazwy konta", "Czy możecie zmienić nazwę mojego konta? Zmieniłem nazwisko i chcę nową nazwę użytkownika."),
        ("Zgubiłem urządzenie 2FA", "Zgubiłem telefon i nie mogę się zalogować. Proszę wyłączyć uwierzytelnianie dwuskładnikowe."),
        ("Prośba o zwrot", "Obciążono mnie dwa razy w tym miesiącu, proszę o zwrot drugiej płatności."),
        ("Pytanie o buildy", "Moje buildy przerywają się po 45 minutach. Czy jest limit, który mogę zwiększyć?"),
    ]),
    ("ja", [
        ("アカウントの削除をお願いします", "私のアカウントとすべてのリポジトリを削除してください。よろしくお願いします。"),
        ("アカウント名の変更", "アカウント名を変更していただけますか。名前が変わったので新しいユーザー名にしたいです。"),
        ("二段階認証の端末を紛失しました", "携帯電話を紛失してログインできません。二段階認証を無効にしてください。"),
        ("返金のお願い", "今月二回請求されました。二回目の支払いを返金してください。"),
        ("ビルドについての質問", "ビルドが45分でタイムアウトします。上限を上げることはできますか。"),
    ]),
];

/// The shape of message `i`, before any bytes are made.
struct Shape {
    lang: usize,
    request: usize,
    /// The request this one answers, for a reply.
    reply_to: Option<usize>,
    /// Decoded size and kind of a base64 attachment.
    attachment: Option<(usize, &'static str, &'static str)>,
    /// Bytes of a log pasted as a text attachment.
    log: Option<usize>,
}

const KINDS: [(&str, &str); 3] = [("application/pdf", "invoice.pdf"), ("image/png", "screenshot.png"), ("application/zip", "logs.zip")];
/// Decoded sizes of the ordinary attachments, by turns: up to 7 MiB,
/// which is 9.5 MB once base64-encoded, handled under the default limit.
const SIZES: [usize; 6] = [300 << 10, 1 << 20, 2 << 20, 3 << 20, 5 << 20, 7 << 20];

fn shape(i: usize, senders: usize) -> Shape {
    let attachment = if i % 100 == 60 {
        Some((20 << 20, "application/octet-stream", "disk-image.bin"))
    } else if i % 25 == 5 {
        let (kind, name) = KINDS[(i / 25) % KINDS.len()];
        Some((SIZES[(i / 25) % SIZES.len()], kind, name))
    } else {
        None
    };
    // A reply answers the request sent `senders` messages before, which
    // came from the same sender (the sender is `i % senders`); early in
    // the mailbox, one 20 messages before.
    let reply_to = (i > 20 && i.is_multiple_of(4)).then(|| if i > senders { i - senders } else { i - 20 });
    Shape { lang: (i / 3) % REQUESTS.len(), request: i % 5, reply_to, attachment, log: (i % 50 == 15).then_some(400 << 10) }
}

/// RFC 2047 encoded word (base64) when the text is not ASCII.
fn header_text(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let b64 = crate::base64_lines(s.as_bytes()).replace("\r\n", "");
    format!("=?utf-8?B?{b64}?=")
}

/// Quoted-printable (RFC 2045), lines at most 76 characters, CRLF.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for line in text.split("\r\n") {
        let mut width = 0;
        for &b in line.as_bytes() {
            let piece = if (b == b' ' || b.is_ascii_graphic()) && b != b'=' { (b as char).to_string() } else { format!("={b:02X}") };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    out
}

fn message_id(i: usize, domain: &str) -> String {
    format!("<bench-{i}@{domain}>")
}

/// A References chain of `len` IDs ending with the request answered:
/// earlier mails of the thread from several clients.
fn references(i: usize, to: usize, domain: &str) -> String {
    let len = 12 + (i * 7) % 49;
    let mut ids: Vec<String> = (0..len - 1)
        .map(|k| match k % 3 {
            0 => format!("<CAH{:016x}{:08x}@mail.gmail.com>", i * 977 + k, k * 31),
            1 => format!("<{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}@{domain}>", i * 13 + k, k, i % 4096, k % 4096, i * k),
            _ => format!("<support.{}.{}@example.org>", to, k),
        })
        .collect();
    ids.push(message_id(to, domain));
    // Folded as mail clients fold it: one ID per line.
    ids.join("\r\n ")
}

/// 4 to 11 Received headers, as a message that crossed a few relays has.
fn received(i: usize, domain: &str) -> String {
    (0..4 + i % 8)
        .map(|hop| {
            format!(
                "Received: from relay{hop}.{domain} (relay{hop}.{domain} [192.0.2.{}])\r\n\tby mx{}.example.org (Postfix) with ESMTPS id {:X}\r\n\tfor <support@example.org>; Mon, 23 Nov 2026 10:{:02}:{:02} +0000\r\n",
                (i + hop) % 250 + 1,
                hop % 3,
                i * 7919 + hop,
                hop,
                i % 60
            )
        })
        .collect()
}

/// The thread quoted below a reply: the request answered and a few
/// rounds of it, as mail clients quote.
fn quoted_history(i: usize, s: &Shape, to: usize) -> String {
    let (_, requests) = REQUESTS[s.lang];
    let mut out = String::new();
    let mut depth = String::from(">");
    for round in 0..(2 + i % 6) {
        out.push_str(&format!("\r\nOn Mon, 2{} Nov 2026 at 09:{:02}, someone wrote:\r\n", round % 3, round * 7 % 60));
        for line in ["Hello,", "", requests[(to + round) % 5].1, "", "Thanks for getting back to me. Here is what I tried so far,", "in case it helps with the account question above.", "", "Regards"] {
            out.push_str(&format!("{depth} {line}\r\n"));
        }
        depth.push('>');
    }
    out
}

fn log_lines(bytes: usize, i: usize) -> String {
    let mut out = String::with_capacity(bytes + 200);
    let mut n = 0;
    while out.len() < bytes {
        out.push_str(&format!(
            "2026-11-2{} 10:{:02}:{:02}.{:03} build[{}]: step {} of job {}: exit status {} (retrying with cache cleared)\r\n",
            n % 7,
            (n / 60) % 60,
            n % 60,
            n % 1000,
            i,
            n,
            i * 31 + n / 100,
            n % 3
        ));
        n += 1;
    }
    out
}

/// Message `i` of the realistic mix, CRLF line ends.
pub fn message(i: usize, senders: usize, domain: &str) -> String {
    let s = shape(i, senders);
    let (lang, requests) = REQUESTS[s.lang];
    let (subject, text) = requests[s.request];
    let sender = i % senders;
    let mut m = received(i, domain);
    let subject = match s.reply_to {
        Some(_) => format!("Re: {subject}"),
        None => subject.to_string(),
    };
    m.push_str(&format!(
        "From: User {sender} <user{sender}@{domain}>\r\nTo: support@example.org\r\nSubject: {}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: {}\r\nMIME-Version: 1.0\r\nContent-Language: {lang}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0\r\n",
        header_text(&subject),
        message_id(i, domain)
    ));
    if let Some(to) = s.reply_to {
        m.push_str(&format!("In-Reply-To: {}\r\nReferences: {}\r\n", message_id(to, domain), references(i, to, domain)));
    }
    let mut plain = format!("Hello,\r\n\r\n{text}\r\n\r\nuser{sender}\r\n\r\n-- \r\nUser {sender}\r\n");
    if let Some(to) = s.reply_to {
        plain.push_str(&quoted_history(i, &s, to));
    }
    let body_headers = if lang == "ja" {
        ("base64", crate::base64_lines(plain.as_bytes()))
    } else if lang == "en" {
        ("7bit", plain)
    } else {
        ("quoted-printable", quoted_printable(&plain))
    };
    let text_part = format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {}\r\n\r\n{}", body_headers.0, body_headers.1);
    if s.attachment.is_none() && s.log.is_none() {
        m.push_str(&text_part);
        return m;
    }
    m.push_str("Content-Type: multipart/mixed; boundary=\"=_outer_boundary\"\r\n\r\nThis is a multi-part message in MIME format.\r\n--=_outer_boundary\r\n");
    m.push_str(&text_part);
    if let Some(bytes) = s.log {
        m.push_str("--=_outer_boundary\r\nContent-Type: text/plain; charset=us-ascii; name=\"build.log\"\r\nContent-Disposition: attachment; filename=\"build.log\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
        m.push_str(&log_lines(bytes, i));
    }
    if let Some((size, kind, name)) = s.attachment {
        let mut data = vec![0u8; size];
        rand::thread_rng().fill_bytes(&mut data);
        m.push_str(&format!(
            "--=_outer_boundary\r\nContent-Type: {kind}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        m.push_str(&crate::base64_lines(&data));
    }
    m.push_str("--=_outer_boundary--\r\n");
    m
}
