//! The precision guard: a route into a sensitive procedure (deletion, 2FA,
//! money, secrets) needs the message to read as a request by its writer
//! about their own account, not as talk about the topic. Word rules fit the
//! phrasings they were written from; these signs are about the shape of the
//! message instead, so they hold on text no rule was tuned on. A message
//! the guard stops is `unclassified` (a person looks), never routed to the
//! runner-up.
//!
//! The signs are words of any language the packs serve; what the guard
//! says names only its signs, never message text (it reaches notices).

use std::sync::LazyLock;

use crate::forward_regex::ForwardRegex;

/// The guard reads folded text (`hold_sensitive`), so its signs are
/// compiled as the rules are: the same words, a fraction of the automata.
fn re(pattern: &str) -> ForwardRegex {
    crate::procedures::rule_text::fixed(pattern)
}

/// First-person singular words in the packs' languages. One list for both
/// patterns below: kept as two copies, a word added to one was missing from
/// the other (Portuguese "eu" and Italian "io" were singular, yet a text in
/// them "never spoke for its writer").
///
/// Spanish, Portuguese and Italian leave the pronoun out ("no puedo
/// pagar", "quero apagar a conta"), and French writes "je": the verbs a
/// request is made with in the first person singular count as the pronoun
/// would. Only forms that are no other person's ("sono" is also "they
/// are") and no common noun ("pago" is also "payment", "deseo" "wish").
/// Not the plural's: a firm speaks as "we" ("Somos dos Correios,
/// precisamos que o senhor regularize", a phishing mail), and its verbs
/// alone let one through to a refund.
const SINGULAR_WORDS: &str = concat!(
    "i|i['’](?:m|ve|d|ll)|im|ive|me|my|mine|myself|ich|mich|mir|mein\\w*|moi|mon|ma|mes|je|yo|mi|mis|io|mio|mia|miei|ik|mij|mijn|eu|meu|minha|meus|minhas|я|мне|меня|мной|мой|моя|моё|мое|мои|моего|моей|моих|свой|своего|свою|своей|свои",
    "|puedo|quiero|quisiera|necesito|tengo|estoy|soy|intenté|olvidé|perdí|pagué|recibí|solicito|abrí|creé|compré|borré|cancelé",
    "|posso|consigo|quero|preciso|tenho|estou|sou|tentei|esqueci|perdi|paguei|recebi|solicitei|criei|abri|comprei|cancelei",
    "|voglio|vorrei|riesco|ho|devo",
);

/// First-person plural words in the packs' languages.
const PLURAL_WORDS: &str = "we|we['’](?:re|ve|d|ll)|us|our|ours|wir|uns|unser\\w*|nous|nos|notre|nosotros|nuestr[oa]s?|noi|nostr[oaie]|wij|ons|onze|nós|nosso|nossa|nossos|nossas|мы|нас|нам|наш\\w*";

/// The writer alone: first-person singular.
static FIRST_SINGULAR: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(&format!(r"(?i)\b(?:{SINGULAR_WORDS})\b|\bj['’]|我(?:[^们]|$)|私|僕|わたし"))
});

/// Other people as the subject: whose account it would be. An admin's
/// work on "a specific user" or "another user" is about someone else too,
/// and so are a third person ("said she was charged twice") and a shop's
/// or a payment processor's buyers. "3 complaints" counts in ASCII
/// digits: `\d` is every script's, too many first bytes for the pattern
/// to be searched from its leading words, and a count in other digits
/// before an English noun is not mail we have seen.
static OTHERS: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:users|a user|the user|a user['’]s|the user['’]s|users['’]|(?:another|other|a specific|a single|each|every|per|any) users?|for a user|people|everyone|everybody|someone['’]s|their (?:\w+ )?accounts?|customers|clients|a client|the client|our clients?|members|admins|buyers|shoppers|merchants|vendors|(?:your|our) users?(?:['’]s)?|an user|one of (?:the|my|our) users|user (?:was|is|has|had|gets|got|reports?|reported|can't|cannot|could not)|reports of this|(?:several|many|multiple|[0-9]+) (?:reports|complaints)|she|her|him|he (?:said|says|was|is|has|will|wants)|nutzer|kunden|clientes|benutzer|utilisateurs?|leurs? comptes?|usuarios|sus cuentas|utenti|gebruikers|usuários)\b|大家|各位")
});

/// Someone else's account named as such, even by a writer who says "my":
/// "my friend's account", "my wife's profile", "his account", "the
/// account of my son". Whose account it is decides who may ask; a person
/// looks.
static THIRD_PERSONS_ACCOUNT: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:(?:my|our|a) (?:friend|wife|husband|son|daughter|mother|mom|mum|father|dad|parent|colleague|partner|brother|sister|boss|relative|grandmother|grandfather|grandma|grandpa|child|kid|boyfriend|girlfriend|coworker|co-worker|employee)['’]s|his|(?:of|for) (?:my|our) (?:friend|wife|husband|son|daughter|mother|mom|mum|father|dad|parent|colleague|partner|brother|sister|child|kid|employee)s?) (?:\w+ )?(?:accounts?|profiles?|subscriptions?|logins?)\b")
});

/// The writer, alone or with others: first person singular or plural.
static FIRST_ANY: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(&format!(r"(?i)\b(?:{SINGULAR_WORDS}|{PLURAL_WORDS})\b|\bj['’]|\bi\s+['’]\s*(?:m|ve|d|ll)\b|我|私|僕|わたし"))
});

/// The reader's own: a text about "your" order or account that never
/// speaks for its writer is a notice, an invoice or a how-to question
/// about any service ("How can you delete your account in X?"). In the
/// packs' other languages too: a phishing mail's "Ihr Konto wird
/// gelöscht", "Ваш аккаунт будет удален", "您的账户将被删除" threatens the
/// reader's account and asks nothing for its writer. Spanish and
/// Portuguese "su"/"sua" are also "his" and "her", but a text that never
/// speaks for its writer and names someone's account is no request of
/// the writer's either way. Not 您好, the polite "hello".
static SECOND: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:your|yours|ihr|ihre|ihren|ihrem|ihrer|ihres|dein\w*|votre|vos|uw|jouw|tu|tus|tuo|tua|tuoi|tue|vostr[oaie]|su|sus|seu|seus|sua|suas|você|vocês|usted|ustedes|twoje|twój|twoja|twoim|twojego|twojej|ваш\w*|твой|твоя|твоё|твои)\b|您(?:[^好]|$)|お客様|あなた|귀하|고객님|회원님")
});

/// A short text that asks ("Can you explain your refund policy, please?")
/// is a request even without I or my.
static PLEASE: LazyLock<ForwardRegex> = LazyLock::new(|| re(r"(?i)\b(?:please|pls|bitte|s'il vous plaît|por favor|per favore|alstublieft|пожалуйста|prosz[eę])\b|请|請|부탁|お願い"));

/// Thanks to the reader ("Thanks for your help", "Danke für Ihre Hilfe",
/// "Merci pour votre aide", "Спасибо за вашу помощь", 感谢您, 请您): the
/// reader addressed as a courtesy, not as the owner of an account. Left
/// out before looking for [`SECOND`].
static THANKS: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:thanks?|thank you|danke|vielen dank|merci|gracias|grazie|dank|bedankt|obrigad[oa]|agrade[çc]\w*|desde já|спасибо|благодар\w*|dziękuj\w*)\b[^.!?\n]{0,40}|(?:请|請|感谢|感謝|谢谢|謝謝|麻烦|麻煩|劳烦|勞煩)您")
});

/// Whether the text addresses its reader's own things ([`SECOND`]), not
/// counting thanks.
fn addressed_to_reader(text: &str) -> bool {
    SECOND.is_match(&THANKS.replace_all(text, "\n"))
}

/// A request that does not say who asks is a short one ("please delete
/// account", "refund needed"); past this many characters a text that never
/// speaks for its writer is a notice, a newsletter or an article.
const IMPERSONAL_MAX: usize = 120;

/// A yes-or-no question put to the reader about a way to pay, a price or a
/// discount, ending in a question mark ("Do you offer a student
/// discount?", "Is there any other way to pay?", "Any other way to
/// subscribe without Paddle?"). Only about paying: a question about what
/// else the reader offers ("Do you offer refunds if the plan does not
/// fit?", "Do you have a process for account deletion?") is a question
/// before buying or about a policy, and asking the reader's opinion
/// ("What do you think of a fork?") asks nothing of them. A macro, not a
/// constant, so that `concat!` can splice it into the patterns below.
macro_rules! pay_question {
    () => {
        concat!(
            r"\b(?:do|does|did) (?:you|u|your (?:team|company|shop|store|service))(?: guys| all| still| also)? (?:offer|have|provide|accept|sell|give|take|grant)\b[^.!?\n]{0,60}\b(?:discounts?|free|pay|paying|payments?|cards?|paypal|alipay|crypto\w*|licen[cs]es?|pricing|prices?|cheaper|students?|educational|academic|non-?profits?)\b[^.!?\n]{0,80}\?",
            r"|\b(?:is|are) there (?:any|some|an?) (?:other |alternative |special )?(?:\w+ )?(?:ways?|options?|methods?|discounts?|possibilit(?:y|ies))\b[^.!?\n]{0,60}\?",
            r"|\bany (?:other |alternative )?(?:ways?|options?|methods?) to (?:pay|subscribe|buy|purchase|get)\b",
        )
    };
}

/// A question put to the reader, opening its sentence ("Could you clarify
/// why my card is not accepted?", "Do you have a licence for
/// non-profits?"), asks us even without I or my, up to a message of a few
/// sentences; not a how-to question about anyone's account ("How can you
/// delete your account in X?"). A notice or an article longer than that
/// which never speaks for its writer is still one, whatever it asks its
/// readers.
static TO_THE_READER: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(concat!(
        r"(?im)(?:^|[.!?;:,]\s+)(?:(?:and|so|but|then|also|hi|hello|hey|thanks)[,!]?\s+)?(?:(?:can|could|would|will) (?:you|u|your team|the team|support)\b|(?:are|were) you able to\b)",
        "|",
        pay_question!(),
        // The same question in the packs' other languages: "Können Sie
        // das Konto löschen?", "pourriez-vous supprimer le compte ?",
        // "¿pueden eliminar la cuenta?", 请您帮忙注销.
        r"|(?im)(?:^|[.!?;:,。，！？]\s*)(?:(?:hallo|guten tag|bonjour|hola|buenas tardes|buenos días|buen día|olá|bom dia|boa tarde|ciao|salve|goedendag|dag|здравствуйте|добрый день)[,!]?\s+)?¿?(?:(?:können|könnten|würden) sie|kannst du|könnt ihr|(?:pouvez|pourriez)[- ]vous|peux[- ]tu|pueden|podrían|podría usted|puede usted|podem|poderiam|pode(?:ria)? (?:você|o senhor|a senhora)|potete|potreste|kunt u|kunnen jullie|kun je|zou u|(?:не )?(?:можете|могли бы))\b",
        r"|请您|請您|麻烦您|麻煩您|能否|可否",
    ))
});
const ASKED_MAX: usize = 300;

/// Work on software rather than a request about an account: a feature
/// request's or a change's title ("Feature: delete account", "Add
/// non-profit FAQ", "Quickfix double refund", "Corrected refund policy
/// page", "Update lost-two-step-device.md", "refund policy update", a
/// tracker's labels "[FUTURO][PRIVACIDAD] …", "[Bill] Ajouter …", "支持注销
/// 账户", a title about a button in Korean, Chinese or Japanese), or two
/// different words of development work in the text.
static DEV_TITLE: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)^\s*(?:\[?(?:feature|enhancement|feature request|rfe|fr|bug|docs?|chore|feat|fix|refactor)\]?\s*(?:\([\w-]+\))?\s*[:\]-]|(?:add|adds|added|fix|fixes|quickfix|hotfix|implement|refactor|document|bump|revert|merge|dedupe|allow users|let users|corrected|updated|removed|renamed|improved|moved)\b|(?:update|updates|edit|create|rename)\s+[\w./-]+\.(?:md|rst|adoc|txt|html?|ya?ml|json)\b|.*\b(?:policy|page|docs?|readme|faq|text|link|url)\s+(?:update|updates|fix|tweaks?)\s*$|.*\b(?:functionality|feature|button|option|flow|screen|endpoint)\s*$|(?:добавить|реализовать|сделать|исправить|доработать)\b|(?:possibilité|possibilite|posibilidad|possibilidade|possibilità|möglichkeit)\s+(?:de|d['’]|di|zu|zum|zur)\b|(?:the )?(?:ability|possibility) to\b|.*功能\s*$|.*機能(?:を(?:実装|追加|作|つく)\S*)?\s*$|(?:bot[óo]n|bouton|bot[ãa]o|pulsante|funcionalidad|fonctionnalit[ée]|funcionalidade|funzionalit[àa])\b|allow\s+\w+ing\b|(?:\[[^\]]{1,25}\]\s*){2,}|(?:\[[^\]]{1,25}\]\s*)*(?:ajouter|créer|implémenter|corriger|agregar|añadir|crear|implementar|hinzufügen|erstellen|implementieren)\b|支持|.*(?:버튼|按钮|按鈕|ボタン))")
});
/// A task opening with a developer's verb ("Handle remove account",
/// "Automate the process of deleting user data"), when the title does not
/// speak for its writer ("Ensure my account is deleted" does).
static DEV_VERB_TITLE: LazyLock<ForwardRegex> =
    LazyLock::new(|| re(r"(?i)^\s*(?:handle|handles|automate|ensure|prevent|improve|introduce|provide|expose|migrate|validate|display|hide)\b"));

/// An option asked for in the title ("Option to delete account on
/// server"): a feature wish when nothing in the text speaks for its
/// writer; with "I" or "my" it is as often the writer's own request put as
/// a title ("Option to disable 2fa for lost authentication … please help
/// me with disabling 2fa for my account").
static OPTION_TITLE: LazyLock<ForwardRegex> = LazyLock::new(|| re(r"(?i)^\s*(?:an? )?options? to\b"));

/// A tracker's ticket key opening the title ("HMP-004d: DELETE /users/me",
/// "[CAL-1326] Transferring account ownership"): upper case, so read
/// apart from the words above.
static TICKET_KEY: LazyLock<ForwardRegex> = LazyLock::new(|| re(r"^\s*\[?[A-Z][A-Z0-9]+-\d+[a-z]?\]?\s*[:\]-]"));

static DEV_WORDS: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:bug|bugs|bugfix|webhooks?|endpoints?|api|pull request|PR|merged?|commits?|repo|repository|changelog|faq|docs|documentation|feature request|enhancement|backoffice|admin (?:ui|panel|page)|user management|wireframe|roadmap|implement\w*|refactor\w*|test mode|idempoten\w*|ui|ux|stripe|paypal|woocommerce|prestashop|shopify|magento|payment gateway|order status|payment status|payment accepted|sandbox|(?:fixes|closes|resolves) #\d+|(?:get|post|put|patch|delete) /[\w/{}:.-]*)\b")
});

/// Bug-report shape that decides alone: report templates, stack traces,
/// code blocks.
static REPORT_STRONG: LazyLock<Vec<(&'static str, ForwardRegex)>> = LazyLock::new(|| {
    [
        ("report template", r"(?i)\b(?:steps to reproduce|to reproduce:|expected (?:behaviou?r|result)|actual (?:behaviou?r|result)|describe the bug|reproduction steps|what steps will reproduce|what is the expected output)\b"),
        ("stack trace", r#"(?m)(?:Traceback \(most recent call last\)|^\s+at [\w$.<>]+\(.*\)\s*$|^\s*File "[^"]+", line \d+|panicked at|Exception in thread|^\s*goroutine \d+ \[)"#),
        ("code block", r"(?m)^\s*(?:```|~~~)"),
        // Chinese "reports an error" ("一直报错": it keeps failing).
        ("error reported", r"报错|出错了|错误提示"),
    ]
    .into_iter()
    .map(|(n, r)| (n, re(r)))
    .collect()
});

/// Bug-report shape where two different signs are needed.
static REPORT_WEAK: LazyLock<Vec<(&'static str, ForwardRegex)>> = LazyLock::new(|| {
    [
        ("version number", r"(?i)\bv\d+\.\d+\b|\bversion:?\s*\d+\.\d+|\b\d+\.\d+\.\d{1,3}\b"),
        ("markdown heading", r"(?m)^#{2,6} \S"),
        ("log line", r"(?m)^\s*\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"),
        ("error line", r"(?im)^\s*(?:error|warning|fatal|exception|err)\b\s*[:\[]"),
        ("link to an issue", r"/(?:issues|pull|merge_requests)/\d+"),
        ("numbered steps", r"(?m)^\s*1[.)]\s+\S.*\n\s*2[.)]\s+\S"),
        ("inline code", r"`[^`\n]{2,}`[^`]*`[^`\n]{2,}`"),
    ]
    .into_iter()
    .map(|(n, r)| (n, re(r)))
    .collect()
});

/// A user story: "As a <role>, I want …", the template of a requirement
/// for software, in the packs' languages. It speaks in the first person for
/// every user of some program, so the first person does not make it the
/// writer's own request. The role is one to three words; the story may be
/// numbered ("US-30 - As a user …") or labelled ("Descripción: Como
/// usuario …"). A requirement put in the third person ("The user can
/// delete their account", "El usuario puede eliminar su cuenta") is the
/// same template.
static USER_STORY: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?im)^\s*(?:\[?(?:US|HU|story)[- ]?[\d.]+\]?\s*[-:–]?\s*)?(?:(?:description|descripción|descripcion|beschreibung|descrição|descricao|story|historia|user story|historia de usuario)\s*:\s*)?(?:(?:the|a) user (?:can|must|should|shall|is able to|will be able to)|el usuario (?:puede|debe|podrá|podra|deberá|debera)|der (?:benutzer|nutzer) (?:kann|muss|soll)|l['’]utilisateur (?:peut|doit|pourra)|o usuário (?:pode|deve|poderá)|de gebruiker (?:kan|moet)|l['’]utente (?:può|deve)|as an? (?:[\w:-]+\s+){0,2}[\w:-]+,?\s+(?:(?:i|we)\s+(?:want|need|would like|wish|should|must|can|could|am able|expect)|(?:i|we)['’]d like)|als (?:[\w:-]+\s+){0,2}[\w:-]+,?\s+(?:möchte|will|muss|kann|soll|brauche)\s+ich|(?:en tant qu['’e]|etq)\s*(?:[\w:-]+\s+){0,2}[\w:-]+,?\s+(?:je|j['’]|nous)|como (?:[\w:-]+\s+){0,2}[\w:-]+,?\s+(?:yo\s+)?(?:quiero|deseo|necesito|debo|puedo|quisiera)|come (?:[\w:-]+\s+){0,2}[\w:-]+,?\s+(?:io\s+)?(?:voglio|vorrei|devo|posso)|als (?:[\w:-]+\s+){0,2}[\w:-]+,?\s+(?:wil|moet|kan)\s+ik|comme (?:[\w:'’-]+\s+){0,2}[\w:'’-]+,?\s+(?:je|j['’]|nous)\s*(?:veux|voudrais|souhaite|dois|peux|aimerais|voulons|devons)|(?:я\s+)?как (?:[\w-]+\s+){0,2}[\w-]+,?\s+(?:я\s+)?(?:хочу|могу|должен|должна|хотел бы|хотела бы))\b")
});

/// A developers' task: the headings of a task template ("Acceptance
/// criteria", "Описание задачи … Критерии приемки"), whoever it is about.
static TASK_TEMPLATE: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:acceptance criteria|definition of done|crit[èe]res d['’]acceptation|criterios de aceptaci[óo]n|crit[ée]rios de aceita[çc][ãa]o|akzeptanzkriterien|критерии при[её]мки|описание задачи)\b")
});

/// A helpline advertisement: a telephone number to call for some company's
/// "customer service". Spam of this kind names refunds, cancellations and
/// lost accounts to be found; nobody asking for their own refund tells us
/// a number to call.
static HELPLINE_NUMBER: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?:\+\s*)?\d(?:[\s.()\[\]{}<>+-]{0,3}\d){9,}")
});
static HELPLINE_WORDS: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:call(?:ing)? (?:us|now|today|at|on|the|our|toll)|dial|helpline|help line|hotline|toll[- ]free|customer (?:care|service|support)|support number)\b|\b24(?:/|\*)7\b|\bcall(?:ing)? [+(\d]")
});

/// The writer runs the software themselves: an administrator of their own
/// installation asks how to turn off a second factor or remove an account
/// there, which is a question about some program, not a request to us.
static OWN_INSTALL: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:access to (?:the|my|our) (?:own )?(?:server|database|instance|installation|host)|permission to log ?in to (?:the|my|our) (?:deployed )?server|(?:i am|i'm|i’m) the (?:sys)?admin(?:istrator)?\b|self[- ]?hosted|my (?:own )?(?:[\w.-]+ )?(?:instance|installation|deployment|portal)\b|users of my\b|deployed (?:server|instance))")
});

/// A wish for a feature ("it would be useful to be able to delete my
/// data", "we have to add a link to remove an account"): a requirement for
/// some software, in the packs' languages.
static FEATURE_WISH: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:it would be (?:nice|useful|great|helpful|good) to (?:be able to|have an? (?:option|button|way|link))|il serait (?:peut-être |peut-etre )?(?:utile|bien|pratique|intéressant) de pouvoir|es wäre (?:schön|gut|hilfreich|praktisch|sinnvoll),? wenn man|sería (?:útil|bueno|genial) poder|we (?:have|need) to add|would be an? (?:nice|great|useful|cool|good|helpful) feature|it would be (?:nice|cool|great|useful|good|helpful|awesome) if (?:i|we|users?|one|people) could|it would be (?:nice|cool|great|useful|good|helpful|awesome) if there (?:were|was|is|would be)|(?:can|could|should) we (?:please )?add|(?:dare|dar|donner) (?:la|a) possibilit\w*|(?:it|that|this) (?:might|would|could) be a good idea|i think it (?:might|would|could) be (?:a good idea|useful|nice|better))\b|\b(?:add|adding|adicionar|adicione|agregar|añadir|ajouter|hinzufügen|aggiungere)\s+(?:(?:an?|the|uma?|la|el|una?|une|die|eine|der|la)\s+)?(?:possibilit\w*|possibilid\w*|posibilidad\w*|option|opção|opcao|opción|möglichkeit|opzione|funcionalidad\w*|fonctionnalité)\b|建议(?:在|增加|添加|加入|提供|支持|可以|能)|(?:提供|添加|增加|加入|支持|开放|实现|提供一个|添加一个)[^。！？\n]{0,24}功能|(?:会有|有没有|能否有|可以有|是否有|何时有|什么时候有)[^。！？\n]{0,24}功能|\bmogelijkheid\b.{0,40}\btoevoegen\b|\btoevoegen (?:van )?(?:een |de )?mogelijkheid\b|\b(?:было бы (?:неплохо|хорошо|здорово|удобно|полезно)|хотелось бы (?:иметь|видеть)|добавить возможность)\b")
});

/// Requests as a class of work: how staff handle, process or answer them
/// ("How to handle account deletion requests", "before addressing deletion
/// requests"): a procedure for a team, someone else's or ours, not a
/// request. Plural only: "please process my deletion request" is one.
static HANDLING_REQUESTS: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:handl\w*|process\w*|address\w*|answer\w*|deal\w* with|respond\w* to|review\w*|triag\w*)\s+(?:(?:all|any|such|incoming|these|those|new|the|pending)\s+)?(?:[\w-]+\s+){0,2}requests\b")
});

/// A help page: its title asks in the first person ("How can I delete my
/// account?", "What should I do if I lose my phone?") and its text answers
/// the reader ("You can delete your account by …"; "contact us" is the
/// service speaking) and never in the first person singular. Another
/// service's FAQ, not a request to us.
fn help_page(text: &str) -> bool {
    let Some((title, body)) = text.split_once('\n') else {
        return false;
    };
    title.trim_end().ends_with('?')
        && FIRST_ANY.is_match(title)
        && body.chars().count() > IMPERSONAL_MAX
        && SECOND.is_match(body)
        && !FIRST_SINGULAR.is_match(body)
}

/// A notice to readers rather than a request: a page titled as a policy,
/// guidelines, tips or an announcement ("Account Deletion Policy", "Tips
/// for New Members"), or a writer who warns the others ("I would like to
/// warn you all"). It names deletion or 2FA as its topic, for everyone. A
/// policy title over the writer's own question ("Refund Policy: is it
/// possible for me to get a refund …") is a request still: the title
/// counts only when the text speaks of others or asks nothing.
static NOTICE_TITLE: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:polic(?:y|ies)|guidelines?|faqs?|tips (?:for|on|and)|terms of (?:service|use)|announcement|psa|heads[- ]up)\b|指南|攻略|教程|避坑|记录一次")
});
static WARNING: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:(?:would like|want|wanted|like) to warn (?:you|everyone|everybody|all|others|other users)|(?:a )?(?:friendly )?(?:warning|heads[- ]up) (?:to|for) (?:everyone|everybody|all|others|you all))\b")
});

/// A denial: the writer asks us *not* to take the step ("please do NOT
/// turn it off for me", "don't delete my account, I only wanted to
/// rename it"). Whatever else the text says about 2FA or deletion, its
/// own ask is the opposite: a person reads it, and no sensitive step is
/// drafted on a guess.
static DENIAL: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)\b(?:do not|don't|dont|never|please don't|please do not)\s+(?:\w+\s+){0,2}?(?:delete|remove|close|cancel|deactivate|disable|turn (?:it |this |that |them |\w+ )?off|switch (?:it |this |that )?off|reset|wipe|erase|terminate|refund)\b")
});

/// What a "don't" before the step's verb may say instead of denying it:
/// "I don't see any delete account button", "I don't have a delete
/// option", "we don't know a way to close it": what the writer cannot
/// find, not what they ask us not to do.
static NOT_A_DENIAL: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(r"(?i)^(?:do not|don't|dont|never|please don't|please do not)\s+(?:see|seen|find|found|know|knew|understand|have|had|get|got|think|remember|recall|notice|spot|like)\b")
});

/// The writer's words that deny the step, if any: the first [`DENIAL`]
/// that is not [`NOT_A_DENIAL`].
fn denial(text: &str) -> Option<&str> {
    DENIAL.find_ranges(text).into_iter().map(|r| &text[r]).find(|m| !NOT_A_DENIAL.is_match(m))
}

/// Spam accounts: a moderator's clean-up ("I deleted several hundred spam
/// accounts") is about other people's accounts even in the first person.
static SPAM_ACCOUNTS: LazyLock<ForwardRegex> = LazyLock::new(|| re(r"(?i)\bspam[- ]?(?:accounts?|konten|comptes)\b"));

/// The writer asks the reader for something, or tells of what happened to
/// their own account: the positive sign of a request. Talk about the topic
/// (what a law requires, how a feature works, a blog post, a forum's tips)
/// speaks in the first person too, but asks nothing of us and reports no
/// charge or loss of the writer's own. The signs, in the packs' languages:
/// a polite word; a question put to the reader ("can you", "is it
/// possible", "how do I"); the writer's want or need ("I would like",
/// "I need", "we are applying"); a request named as one; an imperative on
/// the writer's own account ("delete my account", "refund me"); and what
/// happened to the writer (charged, billed, lost, locked out, cannot log
/// in).
static ASKS: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)\b(?:please|pls|plz|kindly|bitte|s'il vous pla[iî]t|s'il te pla[iî]t|svp|merci de|por favor|per favore|alstublieft|graag)\b",
        // A question put to the reader, also of one of several things
        // ("can one of the charges be removed").
        r"|\b(?:can|could|would|will|may) (?:you|u|someone|somebody|anyone|anybody|i|we|your team|the team|support)\b",
        r"|\b(?:are|were) you able to\b|\bany (?:suggestions?|ideas?|advice|tips|help)\b|\b(?:can|could|would|may) (?:(?:one|both|some|all|each|either) of )?(?:the|my|our|this|that|these|those) (?:[\w-]+ ){0,3}be\b",
        r"|\b(?:is|would) (?:it|there) (?:be )?(?:possible|a way|any way|an option)\b|\bis there (?:a|any) (?:way|option|process|form|possibility)\b",
        r"|\b(?:how|where|what) (?:do|can|could|should|would|must) (?:i|we)\b|\bwhat (?:are|is) (?:my|our) options\b",
        r"|\b(?:k[öo]nn(?:en|ten)|w[üu]rden) sie\b|\bkannst du\b|\bwie kann ich\b|\bist es m[öo]glich\b|\bgibt es (?:eine|die) m[öo]glichkeit\b",
        r"|\b(?:pourriez|pouvez|pourrais|pouvais)[- ](?:vous|tu)\b|\best-(?:il|ce) possible\b|\bcomment (?:puis-je|faire pour|je peux)\b",
        r"|\b(?:puede|pueden|podr[íi]an?|podr[íi]as?|pod[ée]is)\b|\bes posible\b|\bc[óo]mo (?:puedo|hago)\b",
        r"|\b(?:potete|potreste|potresti|pu[òo]i|potrebbe)\b|\b[èe] possibile\b|\bcome posso\b",
        r"|\b(?:kunnen jullie|kunt u|kan iemand|is het mogelijk)\b",
        // The writer's want or need.
        r"|\b(?:would|'d|should) (?:really |truly |greatly |very much )?(?:like|love|prefer|appreciate) (?:to|it|if|a|an|the|my|our|some|your|help)\b|\b(?:i|we)(?: would|'d| should) (?:really |truly |greatly )?(?:like|love|prefer|appreciate)\b",
        // "I would pay for it but …", "I rather want a refund", "how
        // about you provide …", "admins can go ahead and remove the user",
        // "why not simply reimburse my visa", "right now asking about".
        r"|\b(?:i|we) would (?:happily |gladly |gladely )?(?:pay|buy|purchase|subscribe)\b|\bhow about you\b|\bgo ahead and\b|\bwhy not (?:simply |just )?(?:reimburse|refund|delete|remove|cancel|close|disable|reset)\b|\basking (?:about|for|you)\b",
        r"|\b(?:i|we) (?:(?:just|really|also|still|too|urgently|kindly|now|do|don't|do not|rather) ){0,2}(?:want|wanna|need|wish|require|request|ask|am asking|are asking|am requesting|are requesting|am writing|are writing|am applying|are applying|am contacting|have to|must|hope|am hoping|are hoping|am looking|are looking|am trying|am reaching|tried|have tried|contacted|have contacted|emailed|have emailed|wrote|have written)\b|\bi've (?:tried|contacted|emailed|written)\b",
        r"|\b(?:and|but|so) (?:want|need|would like|wish) (?:to|the|my|a|an|our)\b|\bneed (?:your |some )?(?:help|assistance|support)\b|\b(?:give|provide|offer|send|grant|get) (?:me|us)\b|\b(?:get|have) (?:my|our) money back\b|\bif you (?:could|can|would|provide|give|offer|let)\b|\b(?:can|could) i (?:get|have|ask)\b",
        r"|\bi'm (?:asking|requesting|writing|applying|contacting|hoping|looking|trying|reaching)\b|\bwe're (?:asking|requesting|writing|applying|contacting|hoping|looking|reaching)\b|\b(?:i|we) (?:was|were|am|are) wondering (?:if|whether|why|how|when|what (?:i|we) (?:should|can|could|need|must)|what actions?)\b",
        r"|\b(?:help me|help us|assist me|advise me)\b",
        r"|\bich (?:m[öo]chte|will|wollte|w[üu]rde gerne|brauche|bitte|beantrage|ersuche|hoffe)\b|\b(?:m[öo]chte|will|wollte|w[üu]rde|brauche|bitte|beantrage|ersuche) ich\b|\bwir (?:m[öo]chten|wollen|brauchen|bitten|beantragen|w[üu]rden gerne)\b",
        r"|\bje (?:voudrais|souhaite|souhaiterais|veux|demande|sollicite|dois|cherche)\b|\bj'(?:aimerais|ai besoin)\b|\bnous (?:voudrions|souhaitons|souhaiterions|demandons|sollicitons|avons besoin)\b",
        r"|\b(?:quiero|quisiera|necesito|solicito|deseo|queremos|quisi[ée]ramos|necesitamos|solicitamos)\b|\bme gustar[íi]a\b|\bnos gustar[íi]a\b",
        r"|\b(?:vorrei|voglio|chiedo|vorremmo|chiediamo)\b|\bho bisogno\b|\bik (?:wil|zou graag|vraag)\b",
        // "Is there a way / a discount": "existe alguna forma", "há algum
        // desconto", "existe-t-il un moyen".
        r"|\b(?:existe|hay) (?:alg[úu]na?|una?) (?:forma|manera|modo|posibilidad|opci[óo]n|descuento|plan)\b|\b(?:existe|h[áa]) (?:alguma?|uma?) (?:forma|maneira|modo|possibilidade|op[çc][ãa]o|desconto|plano)\b|\b(?:existe-t-il|y a-t-il)\b",
        r"|\b(?:quero|queria|gostaria|preciso|solicitamos|queremos|precisamos|poderiam|podem|pode)\b|\bcomo (?:eu )?(?:fa[çc]o|posso|tenho que|devo)\b|\bdesde j[áa] agrade[çc]o\b",
        r"|\b(?:пожалуйста|прошу|помогите|подскажите|хочу|хотел бы|хотела бы|нужно|мне нужн\w*|можно ли)\b|\bкак (?:мне )?(?:удалить|отключить|вернуть|сменить|изменить|оплатить|закрыть)\b",
        r"|したい|ほしい|欲しい",
        r"|\b(?:istiyorum|isterim|misiniz|mısınız|lütfen|l[üu]tfen|prosz[eę]|przosze|chc[eę]|potrzebuj[eę])\b|주세요|드립니다|원합니다",
        r"|我(?:想|要|希望|需要|申请)|请|麻烦|希望|能不能|可不可以|能否|可否|お願い|ください|요청|부탁",
        // A request named as one, or opening a line as a title would
        // ("Request a full refund for my …").
        r"|\b(?:my|our|this) request\b|\brequesting\b|(?m:^\s*request (?:a |an )?(?:full |partial )?refund\b)|(?m:\b(?:deletion|removal|refund|organi[sz]ation|non-?profit|account|aid|plan|discount|sponsorship|licen[cs]e|rename|username|billing|transfer|2fa|reset|recovery|support|help|closure|cancellation) request\s*$)|\b(?:ma demande|demande de|meine anfrage|mein antrag|mi solicitud|solicitud de|la mia richiesta|richiesta di|mijn verzoek|verzoek om)\b",
        // An imperative on the writer's own account, or on the writer.
        r"|\b(?:delete|remove|close|cancel|erase|deactivate|terminate|refund|reset|disable|turn off|rename|change|transfer|move|switch|update|attach|link|merge|downgrade|unregister|unsubscribe)\s+(?:my|our|me|us)\b",
        r"|\b(?:l[öo]schen|entfernen|schlie[ßs]en|k[üu]ndigen|erstatten) sie\b|\b(?:supprimez|fermez|rembourse[zr]?|annulez|effacez)\b|\b(?:eliminen|borren|cierren|reembolsen|cancelen|eliminad|borrad)\b|\b(?:cancellate|eliminate|rimborsate|chiudete)\b",
        // What happened to the writer: charged, lost, locked out.
        r"|\b(?:i|we|i've|we've|i'm|we're|my(?: \w+){1,2}|our(?: \w+){1,2})\s+(?:was |were |have been |has been |had been |got |been |am being |are being |just got |was just |got double[- ])?(?:charged|billed|debited|overcharged|double[- ]charged|refused|declined|locked out|banned|suspended|blocked|deleted|hacked|compromised)\b|\b(?:charged|billed|debited) (?:me|us|my|our)\b|\bme (?:\w+ ){0,2}(?:cobr\w+|debit\w+|carg\w+)\b",
        r"|\b(?:i|we) (?:(?:have|had|just|recently|accidentally|unfortunately|too|also|somehow|apparently|already|mistakenly) ){0,2}(?:lost|broke|dropped|reset|replaced|wiped|forgot|forgotten|paid|purchased|bought|subscribed|upgraded|signed up|registered|created|accidentally|mistakenly)\b|\bi've (?:(?:just|also|accidentally) )?(?:lost|broken|reset|replaced|wiped|forgotten|paid|purchased|bought|subscribed|upgraded|signed up|registered|created)\b|\bby mistake\b",
        // A title or line that leaves the writer out ("Can't purchase
        // license, card not accepted", "Unable to renew subscription",
        // "Impossible to subscribe Pro Plan"; "Tried three different cards
        // to upgrade to pro and all were declined"): the writer's own
        // failure to pay, as a title says it.
        r"|(?m:^\W*(?:can't|cant|cannot|can not|unable to|not able to|couldn't|could not|impossible to) (?:pay|purchase|buy|subscribe|renew|check ?out|complete (?:the |my |a )?(?:payment|purchase|checkout|subscription|order))\b)",
        r"|\b(?:i|we) (?:(?:just|still|really|simply) )?(?:can't|cant|cannot|can not|couldn't|could not|am unable|are unable|'m unable|am not able|no longer|don't have|dont have|do not have|no longer have|have not been able|haven't been able|havent been able)\b|\b(?:i|we)(?:'m|'re| am| are) (?:\w+ )?(?:unable|not able|locked)\b|\b(?:can't|cant|cannot|can not|unable to) afford\b",
        r"|\bich (?:habe|hab) (?:\w+ ){0,4}(?:verloren|bezahlt|gezahlt|abgebucht)\b|\b(?:kann|konnte) ich (?:mich )?nicht\b|\b(?:und|aber|also|daher|deshalb|darum) (?:\w+ )?m[öo]chte\b|\bwie geht das\b|\bich kann (?:mich )?nicht\b|\bwurde (?:\w+ ){0,3}(?:abgebucht|belastet)\b",
        r"|\bj'ai (?:\w+ ){0,3}(?:perdu|pay[ée]|[ée]t[ée] (?:d[ée]bit[ée]|factur[ée]|pr[ée]lev[ée]))\b|\bje ne (?:peux|parviens|arrive|me souviens) (?:plus|pas)\b|\b(?:ich habe (?:\w+ ){0,3}vergessen|olvid[ée]|ho dimenticato|ik ben (?:\w+ ){0,3}vergeten)\b",
        r"|\b(?:perd[íi]|pagu[ée]|no puedo|me cobraron|me han cobrado|me cobr[óo])\b|\bn[ãa]o (?:consigo|consegui|posso|conseguimos|podemos)\b|\b(?:paguei|fui cobrad[oa]|me cobraram)\b|\b(?:ho perso|ho pagato|non riesco|non posso|mi avete addebitato)\b|\b(?:ik ben|ik heb) (?:\w+ ){0,3}(?:kwijt|verloren|betaald)\b",
        r"|我(?:丢|忘|无法|不能|被)|付款|扣款",
        r"|\bне (?:могу|смог|смогла|получается|удаётся|удается)\b|できません|できない",
    ))
});

/// Signs of [`ASKS`] about paying, whose matches reach far (a question
/// of up to 140 characters, a failed payment told in a line): read apart,
/// so that a place the first look at text in other languages finds for
/// the others is confirmed from as far back as 160 bytes, not 771
/// (`ForwardRegex::confirm_each`, docs/BENCHMARKS.md).
static ASKS_TO_PAY: LazyLock<ForwardRegex> = LazyLock::new(|| {
    re(concat!(
        // A yes-or-no question put to the reader about a way to pay
        // (`pay_question!`).
        "(?i)", pay_question!(),
        r"|(?m:^\W*(?:tried|trying|attempted|attempting) (?:to )?(?:[\w-]+ ){0,6}?(?:pay|purchase|buy|subscribe|upgrade|renew|check ?out)\b[^.\n]{0,60}\b(?:declined|refused|rejected|not accepted)\b)",
    ))
});

/// Whether the writer asks the reader for something ([`ASKS`]).
fn asks(text: &str) -> bool {
    ASKS.is_match(text) || ASKS_TO_PAY.is_match(text)
}

/// Why a route into a sensitive procedure is held back, or `None` when the
/// message reads as its writer's own request. `text` is what the writer
/// wrote: the subject and the body without quotes. `ask`: a text longer
/// than a title must show a positive sign of a request ([`asks`]); false
/// for a procedure decided by what the message carries (a secret pasted
/// in a long report is still a secret).
pub fn hold_sensitive(text: &str, ask: bool) -> Option<String> {
    // The writer's words, not what they pasted: an encrypted block or a
    // key is neither a notice's length nor anybody's first person.
    let folded = crate::procedures::rule_text::fold(text);
    let redacted = super::sensitive::redact(&folded);
    let text = redacted.as_str();
    let strong: Vec<&str> = REPORT_STRONG.iter().filter(|(_, r)| r.is_match(text)).map(|(n, _)| *n).collect();
    let weak: Vec<&str> = REPORT_WEAK.iter().filter(|(_, r)| r.is_match(text)).map(|(n, _)| *n).collect();
    if !strong.is_empty() || weak.len() >= 2 {
        let signs = strong.into_iter().chain(weak).collect::<Vec<_>>().join(", ");
        return Some(format!("it reads as a bug report ({signs}), not a request about the writer's own account"));
    }
    if let Some(words) = denial(text) {
        return Some(format!("it asks us not to take the step (\"{words}\"), not to take it"));
    }
    if USER_STORY.is_match(text) {
        return Some("it reads as a user story (\"as a <role>, I want …\"), a requirement for software, not the writer's own request".to_string());
    }
    if TASK_TEMPLATE.is_match(text) {
        return Some("it reads as a developers' task (acceptance criteria, a task description), a requirement for software, not the writer's own request".to_string());
    }
    if HELPLINE_NUMBER.is_match(text) && HELPLINE_WORDS.is_match(text) {
        return Some("it reads as a helpline advertisement (a telephone number to call for customer service), not a request".to_string());
    }
    if OWN_INSTALL.is_match(text) {
        return Some("its writer runs the software themselves (their own server or installation): a question about a program, not a request about an account with us".to_string());
    }
    if help_page(text) {
        return Some("it reads as a help page (a question in the first person, answered to \"you\"), not a request".to_string());
    }
    if FEATURE_WISH.is_match(text) {
        return Some("it reads as a wish for a feature (\"it would be useful to be able to …\"), not the writer's own request".to_string());
    }
    if HANDLING_REQUESTS.is_match(text) {
        return Some("it is about handling requests (\"how to handle deletion requests\"), a team's procedure, not a request".to_string());
    }
    if SPAM_ACCOUNTS.is_match(text) || (OTHERS.is_match(text) && !FIRST_SINGULAR.is_match(text)) {
        return Some("it is about other people's accounts (users, people, their), not the writer's own".to_string());
    }
    if THIRD_PERSONS_ACCOUNT.is_match(text) {
        return Some("it is about someone else's account (a friend's, a relative's, his), not the writer's own".to_string());
    }
    let title = text.lines().next().unwrap_or("");
    // Most text holds none, and whether it does is the quicker search.
    let dev: std::collections::BTreeSet<String> =
        if DEV_WORDS.is_match(text) { DEV_WORDS.find_ranges(text).into_iter().map(|m| text[m].to_lowercase()).collect() } else { Default::default() };
    if DEV_TITLE.is_match(title)
        || TICKET_KEY.is_match(title)
        || dev.len() >= 2
        || (DEV_VERB_TITLE.is_match(title) && !FIRST_ANY.is_match(title))
        || (OPTION_TITLE.is_match(title) && !FIRST_ANY.is_match(text))
    {
        return Some("it reads as work on software (a feature request's or a change's title, or words of development work), not a request about the writer's own account".to_string());
    }
    if (NOTICE_TITLE.is_match(title) && (OTHERS.is_match(text) || !asks(text))) || WARNING.is_match(text) {
        return Some("it reads as a notice to readers (a policy, tips, an announcement or a warning to others), not the writer's own request".to_string());
    }
    let short = text.chars().count() <= IMPERSONAL_MAX;
    let asked = text.chars().count() <= ASKED_MAX && TO_THE_READER.is_match(text);
    if !FIRST_ANY.is_match(text) && !asked && (!short || (addressed_to_reader(text) && !PLEASE.is_match(text))) {
        return Some("it never speaks for its writer (no I, my, we, our) and is addressed to the reader or long: a notice, not a request".to_string());
    }
    if ask && !short && !asks(text) {
        return Some("it asks nothing of the reader and tells of no charge, loss or lock-out of the writer's own (no please, no question to us, no \"I would like\" or \"I need\"): talk about the topic, not a request".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each text is held back, for the reason named.
    fn held_for(cases: &[(&str, &str)]) {
        for (t, why) in cases {
            let held = hold_sensitive(t, true).unwrap_or_else(|| panic!("not held: {t}"));
            assert!(held.contains(why), "{t}: {held}");
        }
    }

    /// Each text reads as its writer's own request.
    fn passes(texts: &[&str]) {
        for t in texts {
            assert_eq!(hold_sensitive(t, true), None, "{t}");
        }
    }

    /// A notice that threatens the reader's account, in the packs' other
    /// languages as in English: addressed to "you", never to its writer.
    /// The polite 您好 ("hello") addresses no one's account.
    #[test]
    fn notices_to_the_reader_in_other_languages_are_held_back() {
        held_for(&[
            ("Wichtig\nIhr Konto wird gelöscht, wenn Sie Ihre Daten nicht bestätigen.", "never speaks for its writer"),
            ("Avis\nVotre compte sera supprimé si vous ne confirmez pas vos informations.", "never speaks for its writer"),
            ("Aviso\nSu cuenta será cancelada si no verifica sus datos.", "never speaks for its writer"),
            ("Cobro duplicado\nSe le ha cobrado dos veces. Haga clic aquí para solicitar su reembolso.", "never speaks for its writer"),
            ("Konto\nTwoje konto zostanie usunięte w ciągu 24 godzin.", "never speaks for its writer"),
            ("Уведомление\nВаш аккаунт будет удален через 24 часа.", "never speaks for its writer"),
            ("通知\n您的账户将被删除，立即验证。", "never speaks for its writer"),
            ("お知らせ\nお客様のアカウントは削除されます。", "never speaks for its writer"),
        ]);
        // Thanks to the reader, and a question put to the reader, are a
        // request's.
        passes(&[
            "注销\n您好，请注销我的账号",
            "Konto löschen\nBitte löschen Sie mein Konto.",
            "Kontolöschung\nDas Konto zu dieser Mailadresse löschen. Danke für Ihre Hilfe.",
            "compte\nBonjour, pourriez-vous supprimer le compte associé à cette adresse ? Merci pour votre aide.",
            "Baja\nBuenas tardes, ¿pueden eliminar la cuenta asociada a este correo? Gracias por su ayuda.",
            "账号注销\n您好，请您帮忙注销这个邮箱对应的账号，谢谢。",
        ]);
    }

    /// The fifth set's lookalikes, after its one look: an admin of a
    /// self-hosted portal, a French user story under its abbreviation, an
    /// idea for a feature, a hypothetical user, a moderator's purge of spam
    /// accounts; and the same requests asked for oneself, also in Chinese.
    #[test]
    fn self_hosted_admins_story_abbreviations_ideas_and_other_users_are_held_back() {
        held_for(&[
            ("One of users of my selfhosted portal lost his phone. I would like to reset two-factor authentication for him", "runs the software themselves"),
            ("ETQ usager, je souhaite pouvoir supprimer mon compte", "user story"),
            ("I think it might be a good idea to have an option to reset 2FA by email", "wish for a feature"),
            ("What happens if an user has lost their authenticator account?", "other people"),
            ("Today I deleted several hundred spam accounts from the forum", "other people"),
        ]);
        passes(&[
            "I lost my phone, please reset two-factor authentication on my account",
            "请删除我的账户",
            "Please delete my account, I host my code elsewhere now",
        ]);
    }

    /// The seventh set's lookalikes, after its one look: a Spanish user
    /// story under its tracker tag, tasks to add the possibility of
    /// deleting an account (Portuguese) or of changing a username (a
    /// Chinese suggestion), and a help page on handling deletion requests;
    /// and requests in Russian, Portuguese and Japanese, which speak for
    /// their writers in their own words.
    #[test]
    fn story_tags_suggestions_and_procedures_for_requests_are_held_back() {
        held_for(&[
            ("[HU3] Como cliente, deseo borrar mi cuenta.", "user story"),
            ("Conta\nAdicionar a possibilidade de excluir a conta pelo aplicativo.", "wish for a feature"),
            ("用户名\n建议增加修改用户名的功能", "wish for a feature"),
            ("Удаление аккаунта\nБыло бы неплохо иметь возможность удалить свой аккаунт из настроек профиля.", "wish for a feature"),
            ("Handling refund requests\nBefore you process refund requests, check that the card on file matches the one the sender names.", "handling requests"),
        ]);
        passes(&[
            "Удаление аккаунта\nЗдравствуйте! Удалите, пожалуйста, мой аккаунт: я больше не пользуюсь сервисом и не нашёл в настройках, где это сделать.",
            "Exclusão da conta\nSolicito a exclusão da minha conta: não uso mais o serviço e gostaria que os meus dados fossem apagados também, obrigado.",
            "Please process my account deletion request as soon as you can, I no longer use the service and want my data gone.",
            "アカウントの削除をお願いします",
        ]);
    }

    /// "Whose account it is decides who may ask": a writer who says "my"
    /// about a friend's or a relative's account asks for someone else's;
    /// one who names a relative beside their own account still asks for
    /// theirs.
    #[test]
    fn someone_elses_account_is_held_back_even_in_the_first_person() {
        held_for(&[
            ("my account\nPlease make my friend's account go away for good, he no longer uses it.", "someone else's account"),
            ("Delete\nI want to delete my wife's account, she asked me to.", "someone else's account"),
            ("2FA\nI lost the phone that had his account codes, please reset them for me.", "someone else's account"),
        ]);
        passes(&[
            "Refund Policy\nIs it possible for me to get a refund of the premium? My brother bought it by mistake under my account.",
            "Delete my account\nMy friend told me you delete accounts on request: please delete mine, I no longer use it.",
        ]);
    }

    /// The eighth set's lookalikes, after its one look: a requirement in
    /// the third person and a labelled user story (Spanish), wishes for a
    /// feature in Dutch and Chinese, a forum's policy about people's
    /// accounts and a warning to the others; and a request under a policy
    /// title, which still speaks for its writer.
    #[test]
    fn requirements_policies_and_warnings_are_held_back() {
        held_for(&[
            ("Eliminar cuenta\nEl usuario puede eliminar su cuenta registrada.", "user story"),
            ("Cuenta\nDescripción: Como usuario necesito poder eliminar la cuenta.", "user story"),
            ("Verwijderen account\nMogelijkheid verwijderen account toevoegen", "wish for a feature"),
            ("注销账号\n希望能够提供注销账号的功能", "wish for a feature"),
            ("Account Deletion Policy\nI run this forum. When people ask me to delete their accounts, I remove their posts after 30 days; nobody's account is kept longer than that.", "notice to readers"),
            ("2FA\nI would like to warn you all: my 2FA device broke and I lost access to my account on that forge for good.", "notice to readers"),
        ]);
        passes(&[
            "Refund Policy\nIs it possible for me to get a refund of the premium? My brother bought it by mistake under my account.",
            "注销账号\n请帮我注销我的账号，谢谢",
        ]);
    }

    /// The ninth set's lookalikes, after its one look: a developers' task
    /// and a user story in Russian, a task title in Russian, a French
    /// feature title and story, a wish for "an easy way", a question when
    /// a feature comes, a requirement about "their entire account", a
    /// Chinese guide to others, a Chinese bug report; and the requests
    /// that passed only once the guard read their ask.
    #[test]
    fn tasks_titles_and_guides_in_more_languages_are_held_back() {
        held_for(&[
            ("Удаление аккаунта\nОписание задачи: добавить функционал удаления аккаунта. Критерии приемки: в личном кабинете есть кнопка.", "developers' task"),
            ("Удаление аккаунта\nЯ как зарегистрированный пользователь, хочу иметь возможность удалить свой аккаунт.", "user story"),
            ("Добавить удаление аккаунта", "work on software"),
            ("Possibilité de supprimer mon compte depuis l'app", "work on software"),
            ("Modifier nom d'utilisateur\ncomme chercheur d'emploi je veux pouvoir modifier mon nom d'utilisateur", "user story"),
            ("change username?\nIt would be nice if there were an easy way to change one's username.", "wish for a feature"),
            ("账号注销\n你好，请问什么时候会有账号注销的功能？", "wish for a feature"),
            ("Cancel Account\nAllow a signed-in account owner to cancel and remove their entire account.", "other people's accounts"),
            ("【避坑指南】记录一次海外订阅退款\n记录下来，也希望能帮到大家避开自动续费的陷阱。我每个月都被扣费。", "notice to readers"),
            ("不能修改用户名\n在设置中心更改用户名的时候，我提交后一直报错", "bug report"),
            // The tenth set's: feature titles in Japanese and Spanish, a
            // title that allows something, an Italian wish.
            ("退会機能を実装する\n退会の際に連携のSNS情報を削除する", "work on software"),
            ("Botón \"Darme de baja\"\nDebe aparecer en el menú de logueo.", "work on software"),
            ("Allow removing 2FA without a code.\nI lose my access to my 2fa app. I can't remove 2fa.", "work on software"),
            ("Elimina profilo\nDare la possibilità, da profilo, di eliminarlo definitivamente.", "wish for a feature"),
            // The nineteenth round's: a tracker's labels, a French task,
            // "support X" in Chinese, a missing button in Korean.
            ("[AREA][PRIVACY] Delete account", "work on software"),
            ("[Compte] Ajouter la suppression du compte", "work on software"),
            ("支持删除账号", "work on software"),
            ("설정 페이지에 계정 삭제 버튼이 없음", "work on software"),
        ]);
        passes(&[
            "Locked Out of Two-Factor Authentication\nSomehow I screwed up when setting up Two-Factor Authentication. I don't receive a login token when attempting to sign in, so it seems I'm permanently locked out of my account. Any suggestions?",
            "I've cancelled my subscription but it keeps charging.\nI believe it's been cancelled long time ago, are you able to process a refund for me?",
            "Desabilitar autenticação de dois fatores\nQueria desabilitar autenticação de dois fatores mas não tenho mais o celular onde está ativa. Como eu tenho que fazer?",
        ]);
    }

    #[test]
    fn a_request_in_the_first_person_passes() {
        for t in ["Please delete my account", "please delete account", "We're a non-profit, a free plan would help us", "Me cobraron dos veces", "Löschen Sie bitte mein Konto", "J'ai perdu mon téléphone"] {
            assert_eq!(hold_sensitive(t, true), None, "{t}");
        }
    }

    /// Spanish, Portuguese and Italian say "I" with the verb alone, and a
    /// long request in them speaks for its writer as one with "I" does.
    #[test]
    fn a_request_whose_verb_says_i_passes() {
        for t in [
            "No puedo pagar la suscripción porque soy estudiante y el servicio es demasiado caro en este momento. Existe algún descuento para estudiantes?",
            "Quiero eliminar la cuenta que abrí hace dos años con esta dirección de correo, ya no la uso y prefiero que no quede ningún dato guardado.",
            "Não consigo pagar a assinatura porque sou estudante e o serviço está muito caro neste momento. Existe algum desconto para estudantes?",
            "Quero apagar a conta que abri há dois anos com este endereço de email, já não a uso e prefiro que nenhum dado fique guardado no servidor.",
            "Vorrei cancellare l'account che ho aperto due anni fa con questo indirizzo, non lo uso più e preferisco che nessun dato resti sul server.",
            "Je voudrais que le compte ouvert il y a deux ans avec cette adresse soit supprimé, il ne sert plus et aucune donnée ne doit rester sur le serveur.",
            "Soy voluntario de una asociación sin presupuesto para el plan de pago; existe alguna forma de usar el servicio gratis para proyectos libres?",
        ] {
            assert_eq!(hold_sensitive(t, true), None, "{t}");
        }
        // The same topic told in the third person is still a notice, and
        // so is a firm's "we" told with the verb alone.
        for t in [
            "La cuenta se puede eliminar desde la configuración del perfil; los datos se borran a los treinta días y el pago pendiente se reembolsa al cliente automáticamente.",
            "Temos uma encomenda em seu nome, retida por causa do pagamento pendente das taxas. Precisamos que o senhor regularize para liberar a entrega, senão não haverá reembolso.",
        ] {
            assert!(hold_sensitive(t, true).is_some(), "{t}");
        }
    }

    /// Asks put plainly, each in a text long enough to need a sign: "I
    /// would pay for it but", "I rather want a refund", "would really
    /// appreciate", "how about you", "go ahead and", "why not simply
    /// reimburse", "asking about", "we're not able to", "dont have", "have
    /// not been able to", German "und möchte … – wie geht das?".
    #[test]
    fn asks_put_plainly_pass() {
        let story = "I have used the service for a few years now and it was fine for most of that time, thanks for all the work.";
        for ask in [
            "I would pay for the pro plan but i dont have a credit card.",
            "I cancelled the subscription already. I rather want a refund.",
            "I would really appreciate a refund for the current period.",
            "How about you provide a way to remove my account?",
            "I made a second account by mistake; you can go ahead and remove it.",
            "Why not simply reimburse my card, as promised?",
            "Right now asking about turning off the second factor on my account.",
            "We're not able to sign in to our team account with the second factor.",
            "I have not been able to log in to my account for a month.",
        ] {
            let t = format!("{story} {ask}");
            assert_eq!(hold_sensitive(&t, true), None, "{t}");
        }
        let t = "Ich habe mich über das Forum geärgert und möchte deshalb meinen Account hier löschen - wie geht das? Schon lange nutze ich ihn nicht mehr.";
        assert_eq!(hold_sensitive(t, true), None, "{t}");
        // Without any of them the same story is still talk.
        assert!(hold_sensitive(&format!("{story} The second factor is a good idea for everyone."), true).is_some());
    }

    /// A title that leaves its writer out still says whose trouble it is:
    /// "Can't purchase license" is the writer's own failure to pay, however
    /// long the story under it; the same words inside a sentence about
    /// others are not.
    #[test]
    fn a_title_that_leaves_the_writer_out_is_the_writers_own() {
        let story = "Neither of the two shops accepts payment using a VISA card. The error message is 'card not accepted'. The card works fine in other shops so I think it must be the sites.";
        for title in [
            "Can't purchase license, card not accepted",
            "Unable to renew subscription",
            "Cannot complete the payment",
            "Impossible to subscribe Pro Plan",
            "Tried three different cards to upgrade to pro and all were declined.",
        ] {
            let t = format!("{title}\n{story}");
            assert_eq!(hold_sensitive(&t, true), None, "{t}");
        }
        let told = format!("Card payments\nSome customers can't purchase the license. {story}");
        assert!(hold_sensitive(&told, true).is_some(), "{told}");
        let others = format!("Card payments\nCustomers tried to upgrade to pro and their cards were declined. {story}");
        assert!(hold_sensitive(&others, true).is_some(), "{others}");
    }

    /// An administrator of their own installation, a merchant writing about
    /// their clients' charges and a wish for a feature are not requests
    /// about the writer's account with us; the same topics asked for
    /// oneself still pass.
    #[test]
    fn own_installs_clients_and_feature_wishes_are_held_back() {
        held_for(&[
            ("I lost my phone and 2FA says wrong code. I still have access to the server, how do I disable 2FA?", "runs the software"),
            ("Since I'm the administrator I cannot log in anymore, how to disable two factor?", "runs the software"),
            ("Two of our clients were charged twice for one order, we only see one payment. Please check.", "other people"),
            ("Il serait utile de pouvoir supprimer mon compte depuis l'espace personnel.", "wish for a feature"),
            ("It would be useful to be able to delete my account from the settings page.", "wish for a feature"),
            ("GDPR: we have to add a link to remove an account", "wish for a feature"),
        ]);
        passes(&[
            "I lost my phone and cannot log in to my account, please disable 2FA",
            "I was charged twice for my plan, please refund one of the charges",
            "Bitte löschen Sie mein Konto und alle meine Daten",
            "It would be great if you could delete my account",
        ]);
    }

    #[test]
    fn a_bug_report_is_no_request() {
        let t = "I cannot disable 2FA on my account\n```\nerror 500\n```";
        assert!(hold_sensitive(t, true).unwrap().contains("code block"));
        let t = "My 2FA fails since v2.3\n## Logs\nsee above";
        assert!(hold_sensitive(t, true).unwrap().contains("version number, markdown heading"));
        assert_eq!(hold_sensitive("I was charged 9.99 twice, please refund me", true), None, "a price is no version");
    }

    #[test]
    fn talk_about_others_is_no_request() {
        assert!(hold_sensitive("Allow people to delete their accounts", true).unwrap().contains("other people"));
        assert!(hold_sensitive("we should remove all data for a user when the account is closed", true).unwrap().contains("other people"));
        assert_eq!(hold_sensitive("my users' data can go, delete my account", true), None);
        assert!(hold_sensitive("Permettre à l'utilisateur de supprimer leur compte", true).unwrap().contains("other people"));
        assert_eq!(hold_sensitive("Je voudrais supprimer mon compte utilisateur", true), None);
    }

    #[test]
    fn a_user_story_is_a_requirement_not_a_request() {
        for t in [
            "As a registered member, I want to close my account so that my data is gone",
            "US-12 - As an admin I need to remove my profile",
            "Story 3.1: as a shopper I should be able to cancel my subscription and get a refund",
            "Als Kundin möchte ich mein Konto löschen können",
            "En tant qu'utilisateur, je veux pouvoir supprimer mon compte",
            "Como cliente quiero pedir el reembolso de mi compra",
            "Come utente voglio cancellare il mio account",
            "Als gebruiker wil ik mijn account verwijderen",
        ] {
            assert!(hold_sensitive(t, true).is_some_and(|why| why.contains("user story")), "{t}");
        }
        for t in [
            "I am a student and want to ask for a free plan",
            "As I said, please delete my account",
            "As soon as possible, I want my account deleted",
            "Please delete my account, as I no longer need it",
        ] {
            assert_eq!(hold_sensitive(t, true), None, "{t}");
        }
    }

    #[test]
    fn work_on_software_is_no_request() {
        for t in [
            "Quickfix double refund due to webhook\nSometimes a queued task sends the refund twice",
            "Add non-profit discounting FAQ\nMy non-profit qualifies for discounts elsewhere",
            "Feature: delete account\nI think one should be able to close it",
            "Double refund\nI refunded one item through the API and the webhook refunded it again",
            // A task opening with a developer's verb, an option with no
            // writer in it.
            "Handle remove account\n",
            "Automate the process of deleting user data under GDPR article 17\n",
            "Option to delete account on server\nOption to delete account on server",
        ] {
            assert!(hold_sensitive(t, true).is_some_and(|why| why.contains("work on software")), "{t}");
        }
        for t in [
            "Option to disable 2fa for lost authentication\nCan you please help me disable 2fa for my account, I lost my mobile",
            "Option to delete an account\nI'm interested in deleting my account and found no contact address. How should I proceed?",
            "Ensure my account is deleted\nPlease delete my account ~jane, I no longer use it.",
            "Delete my account\nThe delete button in the settings does nothing, please delete it for me",
        ] {
            assert_eq!(hold_sensitive(t, true), None, "{t}");
        }
    }

    #[test]
    fn a_text_that_never_speaks_for_its_writer_is_a_notice() {
        for t in [
            "pending refund order discussed at today's commission meeting\nalthough a final order is not yet available, the commission's latest refund order covers the western utilities",
            "Account deletion\nHello, How can you delete your account in BLT?",
            // A long one is a notice even when it says please.
            "cdnow shipment confirmation\nthank you for shopping, please keep this email invoice for your records: order 30320418 was shipped on june 16 to the address on file",
            // A question to the reader in a text past a few sentences is
            // a newsletter's or an article's.
            "Cards and sanctions\nPayments from several countries are declined this month because of the sanctions on their banks, and subscriptions from there will lapse at renewal unless another way to pay is found by then. The other ways to pay are listed on the pricing page, with the fees of each. Can you think of another way that could be offered? Answers to the forum thread.",
        ] {
            assert!(hold_sensitive(t, true).is_some_and(|why| why.contains("never speaks for its writer")), "{t}");
        }
        for t in [
            "please delete account",
            "Can you delete the account?",
            "Can you explain your refund policy, please?",
            "refund needed for the duplicate charge",
            "i ' m locked out , please reset the second factor",
            // A question put to the reader asks us, in a few sentences.
            "Card declined from Ukraine\nThe card was declined at checkout, three times today. Could you clarify why payments from Ukraine are not accepted?",
            "Non-profit licence\nHi, there is no contact address on the site, so trying it here. Do you have a discount for non-profit organisations? Thanks!",
        ] {
            assert_eq!(hold_sensitive(t, true), None, "{t}");
        }
    }

    /// Other projects' trackers: a report in Google Code's template, a
    /// story that says "I'd like", a wish that "it would be cool if I could",
    /// a third person's charge, a shop's refunds in its payment plugin, a
    /// ticket key or a file name in a change's title. The same topics asked
    /// for oneself still pass.
    #[test]
    fn other_projects_tracker_shapes_are_no_request() {
        held_for(&[
            ("I lost my codes and am locked out\nWhat steps will reproduce the problem? Sign in with the authenticator codes", "bug report"),
            ("As an administrator, I'd like to be able to transfer billing ownership", "user story"),
            ("It would be cool if I could delete my account in the forum, like I can do elsewhere", "wish for a feature"),
            ("Rename account\nChanging usernames would be a nice feature to have, I'd love to rename mine", "wish for a feature"),
            ("Charged twice\nToni said she was charged twice for bloodwork and will be calling you", "other people"),
            ("Double-charging\nOver three days buyers were charged multiple times; we are refunding your user's bank accounts", "other people"),
            ("Stripe - Partial refund\nWe can fill the amount to be refunded; it works when we have Payment accepted", "work on software"),
            ("HMP-004d: DELETE /users/me account deletion (GDPR)\nDelete the current user and all associated data", "work on software"),
            ("Update lost-two-step-device.md\nUpdated lost 2FA document", "work on software"),
            ("Corrected refund policy page\nFixes issue #2927", "work on software"),
            ("refund policy update\nRefund policy update.", "work on software"),
        ]);
        passes(&[
            "I'd like to delete my account, please",
            "My wife and I share this account; I was charged twice, please refund her card",
            "Stripe charged my card twice for one month, please refund one of the charges",
            "Update my billing contact to my colleague, please",
            "It would be great if you could delete my account",
        ]);
    }

    /// A long text about the topic that asks nothing of the reader and
    /// tells of nothing that happened to its writer's own account is talk:
    /// what a law requires, how a feature behaves, a forum's tips, a blog
    /// post. The same topics asked of us, or told as the writer's own
    /// charge, loss or lock-out, pass, in the packs' languages.
    #[test]
    fn talk_that_asks_nothing_of_us_is_no_request() {
        held_for(&[
            ("Data protection and deleted accounts\nUnder the GDPR my data has to be erased once an account is closed. Keeping it around after the account is deleted is not what the law means.", "asks nothing"),
            ("Two-factor without the app\nYou cannot turn off two-factor authentication when the generator is gone; I think the recovery codes are the only way and my friends always lose them.", "asks nothing"),
            ("Why I left the old forge\nThis week my repositories moved to a new forge, which is free software and costs little. Deleting the old account took a minute and my code lives elsewhere.", "asks nothing"),
            // A question before buying, about a policy, or a statement
            // with "is there" in it asks for no step on an account.
            ("Refunds before I buy\nDo you offer refunds if the paid plan turns out not to fit my workflow? I am still comparing forges this month.", "asks nothing"),
            ("Deletion process\nDo you have a documented process for account deletion? My employer requires one from every service its staff use.", "asks nothing"),
            ("The deletion page\nThe deletion page is there a little hidden in the settings; I found it and closed my old account myself last week.", "asks nothing"),
            // Asking the reader's opinion is not asking them for anything.
            ("A sister site for deleted accounts\nThanks for the list of deletion links, I use it a lot. What do you think of a second list, of the sites where renaming an account is hidden somewhere?", "asks nothing"),
        ]);
        passes(&[
            "Account removal\nHello, I tried to reach you by mail about deleting all my personal data, without an answer, so here it is again in your tracker.",
            "Charged twice\nMy subscription was charged twice this month, on the 17th and again on the 18th, for the same plan and the same account.",
            "Lost authenticator\nI too have lost access to my authenticator app after switching phones and need to have the second factor reset on the account.",
            "Datenlöschung\nSehr geehrte Damen und Herren, hiermit beantrage ich die Löschung meines Kontos und meiner Daten gemäß DSGVO, mit Bestätigung.",
            "Doble cobro\nMe debitaron de la cuenta el pago del plan dos veces en el mismo mes, el día 9 y otra vez el 16, por el mismo plan.",
            "Non-profit organisation request\nWe are a non-profit research team at a university. We run simulations and publish the code openly, and the paid plan is beyond our grant.",
            "Switch payment to my other account\nI have two accounts and want the payment attached to the work one instead of the personal one from next month.",
            // A yes-or-no question put to the reader asks too.
            "Student discount\nDo you offer a discount for students? I study far from home and the yearly plan costs more than a month of my rent.",
            "Paying without a card\nIs there any other way to pay for the plan? My bank gives students no credit card and the form only takes cards.",
            "Any other way to pay than the card form?\nThe payment page keeps failing for me at the last step, every time, with every card in the household.",
            "Оплата подписки\nЗдравствуйте! Не удаётся оплатить подписку: карта моего банка не проходит, пробовал уже несколько раз за неделю.",
            // Portuguese "I cannot", as the writer's own trouble.
            "Conta duplicada\nPessoal, acabei criando uma segunda conta com outro e-mail e não consigo apagar essa conta para ficar só com a minha conta original.",
        ]);
    }

    /// The sixth set's lookalikes, after its one look: another service's
    /// help page (a question in the first person, answered to "you"), a
    /// tracker's title about "User" and counted reports, a title that names
    /// a feature, an admin of their own instance of some product; and the
    /// same topics asked for oneself.
    #[test]
    fn help_pages_reports_of_users_and_feature_titles_are_held_back() {
        held_for(&[
            ("How can I delete my account?\nYou can delete your account from the settings page. Open the account menu, choose delete, and confirm; contact us if the button is missing.", "help page"),
            ("I was charged twice. What should I do?\nIf you were charged twice for a purchase, contact our staff before you dispute it with your bank; duplicate payments are refunded.", "help page"),
            ("[Circle] - User was charged twice for the same subscription", "other people"),
            ("Subscription is being paid twice\nAt least 4 reports of this.", "other people"),
            ("Delete Account functionality\nThough we find it hard why someone would want to leave, we need to provide these options to close an account.", "work on software"),
            // A title that names a capability wished for, as "Möglichkeit
            // zu" and "possibilité de" do ("Option to disable 2FA" over
            // "can you please help me disable 2FA" is a request: not that).
            ("Ability to request a username change on the wiki\nAt the moment there is no way for me to ask for another name there, or to change it myself.", "work on software"),
            ("Possibility to close my account from the settings\nI had to write to you to close the old one; a link in the settings would have been nicer.", "work on software"),
            ("What if I lose my phone?\nI just activated 2FA for my owncloud instance and it works. What happens when my phone is gone, can I still get in?", "runs the software"),
        ]);
        passes(&[
            "How can I delete my account?\nI looked everywhere in the settings and there is no button, please delete it for me.",
            "I was charged twice, what should I do?\nMy card shows two payments for the same plan this month; I would like one of them refunded.",
            "I lost my phone\nMy authenticator was on it and I cannot log in to my account any more; please help.",
        ]);
    }

    /// A procedure decided by what the message carries is asked for no
    /// sign of a request: a secret pasted into a long account of an outage
    /// is a secret whether or not the writer asks for anything.
    #[test]
    fn content_needs_no_sign_of_a_request() {
        let t = "Hub outage notes\nThe hub was down this morning after the upgrade; the config we used then had password = Xk93!mmq2 in it, and the pods came back after an hour.";
        assert!(hold_sensitive(t, true).unwrap().contains("asks nothing"));
        assert_eq!(hold_sensitive(t, false), None);
    }

    /// "When a reply's meaning is unclear, hand it to staff; never take an
    /// irreversible step on a guess": a writer who asks us not to take the
    /// step is no request for it.
    #[test]
    fn a_denial_is_no_request_for_the_step() {
        for t in [
            "New phone\nI got a new phone and the codes from the old one are gone. I have no access to my account since then. Please do NOT turn it off for me, I will set it up again myself.",
            "Please do NOT disable 2FA or turn it off for me, I only wanted to ask about recovery codes.",
            "Account\nDon't delete my account, I only wanted to change my username.",
        ] {
            assert!(hold_sensitive(t, true).is_some_and(|w| w.contains("not to take the step")), "{t}");
        }
        // The explanation quotes the writer's own words.
        let held = hold_sensitive("I don't see a close button. Please do not close my account yet.", true).unwrap();
        assert!(held.contains("do not close\")"), "{held}");
        for t in [
            "I don't want to use the service any more. Please delete my account.",
            "Please don't charge me again and refund the last payment, I cancelled in May.",
            "I lost my phone and can't log in. Please turn off two-factor authentication for my account.",
            // What the writer cannot find is no denial.
            "deleteable accounts\nI don't see any delete account button. I would appreciate it very much if my account was deleted.",
            "I don't have a delete option in my settings, please close my account.",
        ] {
            assert!(!hold_sensitive(t, true).is_some_and(|w| w.contains("not to take the step")), "{t}");
        }
    }

    #[test]
    fn a_helpline_advertisement_is_no_request() {
        let t = "Refund for your antivirus? Call 1-800-555-0199 now, customer service 24/7";
        assert!(hold_sensitive(t, true).unwrap().contains("helpline"));
        let t = "Cancel and get your money back: dial +44 (20) 7946 0958";
        assert!(hold_sensitive(t, true).unwrap().contains("helpline"));
        for t in [
            "I was charged twice on card ending 4242, order 1234567890, please refund me",
            "Please refund me, you can call me on +49 30 1234 5678",
        ] {
            assert_eq!(hold_sensitive(t, true), None, "{t}");
        }
    }
}
