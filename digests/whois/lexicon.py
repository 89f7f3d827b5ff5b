"""The bilingual (fr/en) vocabulary the who-is-who engine understands.

Every phrase is written in the *normalised* form of `digests.textnorm.normalise` (lowercase, no
accents, punctuation as spaces). A phrase maps to tags ``(category, value)``; the question parser
matches the longest phrase first, so "membre du conseil d administration" beats "conseil".

Nothing here names a person of a particular story: role titles of a story are added to the
vocabulary from the story itself when an index is built.
"""

from __future__ import annotations

Tag = tuple[str, str]


def _words(text: str) -> list[str]:
    return [phrase.strip() for phrase in text.split("|") if phrase.strip()]


# Role keys. "weak" phrases (runs, dirige, patron...) mean the head of an organisation unless a
# more specific role is named in the same question ("who will lead the AI division").
ROLE_PHRASES: dict[str, str] = {
    "ceo": "ceo|ceos|c e o|pdg|p d g|chief executive|chief executive officer|directeur general|"
    "directrice generale|president directeur general|presidente directrice generale|dg|"
    "chief exec|executive|top executive|chief",
    "president": "president|presidente|chairman|chairwoman|chairperson|chair",
    "coo": "coo|chief operating officer|directeur des operations|directrice des operations|"
    "directeur operationnel|directrice operationnelle|directeur de l exploitation|"
    "directrice de l exploitation|operations chief|head of operations|operating officer",
    "chief-scientist": "chief scientist|directeur scientifique|directrice scientifique|"
    "scientifique en chef|chief science officer|head of research|directeur de la recherche|"
    "directrice de la recherche|chief scientific officer|lead scientist|scientist|scientifique",
    "board-member": "board member|board members|member of the board|members of the board|"
    "membre du conseil|membres du conseil|membre du conseil d administration|"
    "membres du conseil d administration|membre du ca|membres du ca|administrateur|administratrice|"
    "administrateurs|administratrices|director on the board|directors on the board|on the board|"
    "sits on the board|sit on the board|seat on the board|siege au conseil|siegent au conseil|"
    "siege au conseil d administration|au conseil d administration|board seat",
    "cofounder": "cofounder|cofounders|co founder|co founders|cofondateur|cofondatrice|"
    "cofondateurs|co fondateur|co fondatrice|founder|founders|fondateur|fondatrice|fondateurs|"
    "founded|cofounded|co founded|a fonde|ont fonde|a cofonde|ont cofonde|fonde|cofonde",
    "cto": "cto|chief technology officer|chief technical officer|directeur technique|"
    "directrice technique|directeur de la technologie|directrice de la technologie",
    "cfo": "cfo|chief financial officer|directeur financier|directrice financiere",
    "head-of-ai-division": "ai division|a i division|division ia|division i a|"
    "division intelligence artificielle|division d intelligence artificielle|"
    "division de l intelligence artificielle|division de l ia|artificial intelligence division|"
    "ai unit|ai team|ai group|ai lab|head of ai|pole ia|branche ia|equipe ia|new ai|nouvelle division",
}
WEAK_HEAD = (
    "boss|bosses|patron|patronne|head|heads|leader|leaders|dirigeant|dirigeante|dirige|dirigeait|"
    "diriger|dirigera|runs|run|running|ran|leads|lead|leading|led|in charge|charge|responsable|"
    "a la tete|la tete|tete|chef|cheffe|helm|at the helm|top|manages|manage|managed|gere|pilote|"
    "capitaine|captain"
)

# Predicates: canonical name -> phrases. Verbs and nouns; nouns ("firing", "successeur") say the
# entity named after them is the one the action happened to.
PREDICATE_PHRASES: dict[str, str] = {
    "fired": "fired|fire|fires|firing|sacked|sack|ousted|oust|ouster|ousting|dismissed|dismiss|"
    "dismissal|removed|removal|remove|kicked out|pushed out|forced out|let go|thrown out|booted|"
    "axed|terminated|terminate|termination|got rid of|get rid of|gave the boot|give the boot|"
    "congedier|"
    "licencie|licenciee|licencier|licencient|licenciement|evince|evincee|evincer|eviction|"
    "renvoye|renvoyee|renvoyer|renvoi|vire|viree|virer|limoge|limogee|limoger|limogeage|congedie|"
    "destitue|destituee|destitution|ejecte|pousse vers la sortie|mis a la porte|mise a la porte|"
    "chasse|chassee|depart force|remercie",
    "resigned": "resigned|resign|resigns|resigning|resignation|resignations|quit|quits|quitting|"
    "stepped down|step down|steps down|walked out|walk out|departed|left|leave|leaves|leaving|"
    "demissionne|demissionnee|demissionner|demissionnent|demission|demissions|demissionnaire|"
    "quitte|quittee|quitter|quittent|parti|partie|partis|depart|departs|claque la porte",
    "appointed": "appointed|appoint|appointment|named|nominated|installed|chosen|picked|"
    "nomme|nommee|nommer|nomination|designe|designee|choisi|choisie|installe|installee",
    # Taking a post, said of the one who takes it: the appointee of an "appointed" fact.
    "took_over": "took over|take over|takes over|taking over|stepped in|steps in|step in|"
    "took the interim|took charge|take charge|pris l interim|prend l interim|prendre l interim|"
    "assure l interim|assurer l interim|assurait l interim|pris les commandes|pris la barre",
    "will_lead": "will lead|will head|will run|to lead|going to lead|is set to lead|set to lead|"
    "will be leading|will take the helm|va diriger|vont diriger|dirigera|va prendre la tete|"
    "prendre la tete|prend la tete|prendra la tete|va prendre les renes|doit diriger|"
    "doit prendre la tete",
    "joined": "joined|join|joins|joining|moved to|move to|moves to|went to|goes to|heads to|"
    "headed to|rejoint|rejointe|rejoindre|rejoignent|rejoindra|file chez|part chez|parti chez|"
    "passe chez|arrive chez",
    "recruited": "recruited|recruit|recruits|recruiting|recruiter|hired|hire|hires|hiring|"
    "brought in|bring in|recrute|recrutee|recruter|recrutement|embauche|embauchee|embaucher|"
    "engage|engagee|engager",
    "replaced": "took over from|take over from|takes over from|taking over from|took over for|"
    "a pris la suite de|prend la suite de|pris la releve de|prend la releve de|"
    "replaced|replace|replaces|replacing|replacement|succeeded|succeed|succeeds|"
    "successor|took the place|took his place|took her place|remplace|remplacee|remplacer|"
    "remplacant|remplacante|succede|succeder|successeur|successeure|succession|pris la place|"
    "a la place|prend la place|pris sa place",
    "preceded": "predecessor|predecessors|predecesseur|predecesseure|preceded|precede|precedes|"
    "precedait|came before",
    "negotiated": "negotiated|negotiate|negotiating|negotiation|negotiations|talks|"
    "negociation|negociations|negocie|negocier|negocient|tractations|discussions|pourparlers",
    "regretted": "regretted|regret|regrets|regrette|regrettait|apologised|apologized|apology|"
    "mea culpa|disappointed|decu|remorse|excuses",
    "declared": "declared|declare|declares|said|says|say|stated|statement|affirme|affirmed|"
    "tweeted|tweete|tweet|posted|dit|a dit|interview",
    "explained": "explained|explain|explains|explanation|explanations|explique|explication|"
    "explications|reasons|raisons|justified|justifie",
    "announced": "announced|announce|announces|announcement|annonce|annonces|annoncee|annoncer",
    "signed": "signed|sign|signs|signe|signee|signent|signataires|letter|lettre|petition",
    "threatened": "threatened|threaten|threatens|threat|menace|menacent|menaces|sue|suing|lawsuit|"
    "poursuites|poursuivre|legal action|ready to quit|prets a demissionner",
    "speculated": "speculated|speculation|speculations|rumour|rumours|rumor|rumors|rumeur|rumeurs",
    "warned": "warned|warn|warns|averti|alerte|prevenu",
    "approved": "approved|approve|approves|approval|backed|endorsed|endorse|supported|"
    "was in favour|was in favor|agreed with|approuve|approuvee|approuver|approuvait|aval|"
    "soutenu|soutenue|soutenir|soutenait|soutient|favorable",
    "disapproved": "disapproved|disapprove|disapproves|disapproval|opposed|oppose|opposes|"
    "objected|object to|not approve|not agree|disagreed|desapprouve|desapprouvee|desapprouver|"
    "desapprouvait|desapprobation|oppose|opposee|opposer|opposait|pas approuve|pas approuvee|"
    "pas d accord|desaccord",
    "convinced": "convinced|convince|convinces|convincing|persuaded|persuade|persuades|"
    "talked into|won over|convaincu|convaincue|convaincre|convainc|convainquent|persuadee|"
    "persuader",
    "reported": "reported|report|reports|revealed|reveal|reveals|disclosed|rapporte|rapportee|"
    "rapportent|revele|revelee|reveler|revelent|devoile|divulgue",
    "demanded": "demanded|demand|demands|demanding|called for|call for|calls for|insisted on|"
    "exige|exigee|exiger|exigent|exigeant|exigeaient|reclame|reclamer|reclament|reclamait",
    "shareholder_of": "shareholder|shareholders|stakeholder|stake in|stake|owns shares|"
    "actionnaire|actionnaires|actionnariat|parts dans|parts de|detient des parts|part du capital",
    "partner_of": "partner|partners|partnered|partnership|ally|allies|partenaire|partenaires|"
    "partenariat|allie|allies",
    "rival_of": "rival|rivals|rivalry|competitor|competitors|compete|competes|competing|"
    "rivaux|rivale|rivales|concurrent|concurrents|concurrente|concurrentes|concurrence",
    "advocated": "advocated|advocate|advocates|urged|urge|urges|preached|caution|cautious|"
    "careful|wary|warier|skeptical|sceptical|distrustful|sceptique|prudence|prudent|mefiant|mefiance|pronait|prone|preconise|preconisait",
    "wanted": "wanted|wants|want|wish|wishes|wished|hoped|hopes|aims|aimed|seeks|sought|"
    "veut|voulait|voulaient|veulent|vouloir|souhaite|souhaitait|souhaitent|desire|desirait|"
    "espere|esperait|cherchent a|cherche a|cherchait a",
    "instigated": "instigated|instigate|instigator|instigation|orchestrated|orchestrate|"
    "masterminded|mastermind|a l instigation|sous l impulsion|impulsion|orchestre|orchestree|"
    "instigue|instigateur|instigatrice",
    "works_with": "works with|work with|working with|worked with|work alongside|colleague|"
    "colleagues|travaille avec|travailler avec|travaillent avec|collabore|collaborer|collegue|"
    "collegues|bosse avec",
}
PREDICATE_NOUNS = set(
    _words(
        "firing|ouster|ousting|dismissal|removal|termination|licenciement|eviction|renvoi|limogeage|destitution|"
        "depart force|successor|replacement|successeur|successeure|remplacant|remplacante|"
        "succession|recruiter|recrutement|predecessor|predecessors|predecesseur|predecesseure|"
        "shareholder|shareholders|stakeholder|actionnaire|actionnaires|partner|partners|"
        "partenaire|partenaires|rival|rivals|rivaux|rivale|rivales|competitor|competitors|"
        "concurrent|concurrents|concurrente|concurrentes|disapproval|desapprobation|approval"
    )
)

# Markers.
MARKERS: dict[str, str] = {
    "passive": "was|were|been|being|got|gets|get|is|are|ete|est|sont|fut|furent|s est fait|"
    "se fait|fait|s etait fait",
    "by": "by|par|aupres de",
    "by_whom": "by whom|par qui|who by",
    "future": "will|va|vont|sera|seront|future|futur|future|next|prochain|prochaine|planned|"
    "prevu|prevue|going to|set to|upcoming|a venir|bientot|soon|to become|devenir|doit|deviendra",
    "former": "former|ancien|ancienne|previous|precedent|precedente|ex|formerly|anciennement",
    "first": "first|premier|premiere|initial|initialement|originally",
    "current": "current|currently|now|today|actuel|actuelle|actuellement|maintenant|aujourd hui|"
    "presently|en ce moment|at the moment|latest|dernier|derniere|new|nouveau|nouvelle",
    "interim": "interim|par interim|acting|temporary|temporaire|provisoire|interimaire|"
    "a titre provisoire",
    "link": "link|links|linked|relation|relations|relationship|connection|connections|"
    "connected|tie|ties|lien|liens|lie|liee|rapport|partnership|partner|partners|partenariat|"
    "partenaire|partenaires|associe|shareholder|actionnaire|investor in|investisseur|"
    "have to do with|a voir avec|deal",
    "what": "what|quoi|qu est ce|qu est ce que|qu est ce qu|c est quoi|what s|which company|"
    "quelle entreprise|quelle societe|company|entreprise|societe|organisation|organization|"
    "firm|group|groupe",
    "who": "who|whom|whose|who s|qui|c est qui|qui est ce|qui c est|quel|quelle|quels|quelles|"
    "which|which person|quelle personne|person|personne",
}

# Dates.
MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january|jan|janvier|janv",
        "february|feb|fevrier|fevr|fev",
        "march|mar|mars",
        "april|apr|avril|avr",
        "may|mai",
        "june|jun|juin",
        "july|jul|juillet|juil",
        "august|aug|aout",
        "september|sep|sept|septembre",
        "october|oct|octobre",
        "november|nov|novembre",
        "december|dec|decembre",
    ),
    start=1,
):
    for _name in _words(_names):
        MONTHS[_name] = _number

WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "monday|lundi",
        "tuesday|mardi",
        "wednesday|mercredi",
        "thursday|jeudi",
        "friday|vendredi",
        "saturday|samedi",
        "sunday|dimanche",
    )
):
    for _name in _words(_names):
        WEEKDAYS[_name] = _number

# Abbreviated weekdays ("sam. 18 nov.", "Sat, Nov 18"): read as such only before a date, since
# several are also words or names ("Sam", "mer", "sun").
WEEKDAY_ABBREVIATIONS = frozenset(
    _words("lun|mar|mer|jeu|ven|sam|dim|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun")
)

# Days counted from the story's first day ("le lendemain" = the day after the first day).
RELATIVE_DAYS: dict[str, int] = {
    **dict.fromkeys(
        _words(
            "lendemain|le lendemain|next day|the next day|day after|the day after|following day|"
            "the following day|jour suivant|le jour suivant|second day|deuxieme jour|day two|"
            "jour deux|day 2|jour 2|2e jour|2eme jour"
        ),
        1,
    ),
    **dict.fromkeys(
        _words(
            "surlendemain|le surlendemain|two days later|deux jours plus tard|third day|"
            "troisieme jour|day three|day 3|jour 3|3e jour|3eme jour"
        ),
        2,
    ),
    **dict.fromkeys(
        _words("first day|premier jour|day one|day 1|jour 1|jour un|le premier jour|the first day"),
        0,
    ),
}
WEEKEND = _words(
    "weekend|week end|ce weekend|ce week end|this weekend|the weekend|le weekend|le week end"
)
DATE_RELATIONS: dict[str, str] = {
    **dict.fromkeys(
        _words("before|avant|prior to|until|jusqu au|jusqu a|up to|avant le"), "before"
    ),
    **dict.fromkeys(_words("after|apres|since|depuis|following|a partir du|des le|from"), "after"),
    **dict.fromkeys(_words("on|le|au|at|as of|en date du|in|du|at the time of"), "on"),
}

# Words with no bearing on who is asked about; they are "explained" so that they are never
# mistaken for an unknown name.
STOPWORDS = set(
    _words(
        # English
        "a|an|the|of|to|in|on|at|for|from|with|without|about|and|or|but|as|is|are|was|were|be|"
        "been|being|am|do|does|did|done|doing|have|has|had|having|it|its|it s|this|that|these|"
        "those|there|here|then|than|so|such|very|really|just|also|too|again|still|yet|ever|"
        "who|whom|whose|what|which|when|where|why|how|s|t|d|ll|re|ve|m|i|me|my|you|your|he|him|"
        "his|she|her|hers|they|them|their|we|us|our|one|ones|someone|somebody|anyone|anybody|"
        "tell|tell me|know|knows|explain|show|give|describe|find|look|looking|search|please|pls|"
        "plz|thanks|thank|thx|hi|hello|hey|ok|okay|yes|no|not|any|all|some|more|most|much|many|"
        "can|could|would|should|shall|may|might|must|will|let|want|wants|need|info|information|"
        "details|detail|bio|biography|profile|role|roles|job|jobs|position|positions|title|post|"
        "role of|story|stories|news|crisis|saga|affair|case|happened|happen|happens|going|"
        "kind|sort|like|guy|man|woman|lady|people|persons|individual|name|named|called|"
        "person|team|member|members|company|companies|firm|organisation|organization|board|"
        "into|onto|over|under|out|up|down|off|back|away|around|during|while|between|among|"
        "whether|if|else|because|since|via|per|vs|versus|new|old|big|same|other|another|"
        "each|both|either|neither|own|only|even|now|today|yesterday|tomorrow|day|days|date|dates|"
        "time|times|year|years|month|week|moment|period|first|last|next|later|earlier|ago|"
        "again|u|r|ya|lol|btw|pls|wtf|omg|actually|exactly|hmm|um|uh|currently|held|hold|holds|"
        "holding|occupied|occupy|served|serve|serves|serving|act|acted|acting|became|become|"
        "becomes|becoming|got|get|made|make|makes|took|take|takes|taken|put|went|go|goes|gone|"
        "came|come|comes|said|say|says|did|involved|involvement|part|play|played|plays|"
        "responsible|behind|role in|doing|done|decision|decided|decide|news|latest|update|"
        "openai s|s role|the job|whole|entire|full|exact|real|true|right|wrong|"
        "well|good|bad|best|worst|new ai|ai|artificial|intelligence|artificial intelligence|"
        "chatgpt|gpt|tech|technology|startup|start up|compare|versus|difference|between|"
        "ceo s|boss s|officer|officers|technology|technical|financial|marketing|product|"
        "research|researcher|researchers|engineer|engineers|staff|employee|employees|director|"
        "directors|manager|managers|vp|vice|executive|executives|senior|junior|deputy|"
        "spokesperson|investor|investors|shareholders|partner company|asked|ask|question|"
        "according|accordingly",
    )
    + _words(
        # French
        "le|la|les|l|un|une|des|de|du|d|au|aux|a|en|et|ou|mais|donc|or|ni|car|que|qu|qui|quoi|"
        "dont|ou|quand|comment|pourquoi|combien|est|sont|etait|etaient|ete|etre|sera|serait|"
        "a|ai|as|avons|avez|ont|avait|avaient|aura|c|ce|cet|cette|ces|ca|cela|ceci|celui|celle|"
        "ceux|celles|il|elle|ils|elles|on|je|j|tu|te|t|me|m|moi|toi|lui|leur|leurs|nous|vous|"
        "se|s|sa|son|ses|mon|ma|mes|ton|ta|tes|notre|nos|votre|vos|y|ne|n|pas|plus|moins|"
        "tres|trop|aussi|encore|toujours|deja|jamais|rien|tout|tous|toute|toutes|quel|quelle|"
        "quels|quelles|lequel|laquelle|lesquels|dis|dis moi|dites|dites moi|parle|parle moi|"
        "parlez|parlez moi|raconte|explique|expliquez|moi|svp|stp|merci|bonjour|salut|oui|non|"
        "si|alors|voici|voila|sur|sous|dans|par|pour|avec|sans|chez|entre|vers|contre|pendant|"
        "depuis|selon|apres|avant|role|roles|poste|postes|fonction|fonctions|titre|metier|"
        "emploi|profil|biographie|infos|info|information|informations|details|histoire|affaire|"
        "crise|saga|dossier|personne|gens|homme|femme|type|mec|nom|appelle|appele|appelee|"
        "entreprise|entreprises|societe|organisation|equipe|membre|membres|conseil|jour|jours|"
        "date|annee|mois|semaine|moment|periode|premier|dernier|prochain|hier|demain|"
        "aujourd hui|maintenant|actuellement|occupe|occupait|occupe le poste|tenait|tient|"
        "exerce|exercait|devenu|devenue|devient|fait|faisait|font|fera|va|vont|allait|"
        "est ce|est ce que|est ce qu|qu est|c est|c etait|s agit|s agit il|il s agit|"
        "implique|impliquee|joue|role dans|derriere|responsable de|decision|nouvelles|"
        "ia|intelligence|artificielle|intelligence artificielle|chatgpt|gpt|tech|startup|"
        "a t il|a t elle|t il|t elle|est il|est elle|etait il|etait elle|son role|sa fonction|"
        "quelqu un|quelqu une|n importe|vraiment|exactement|actuel|actuelle|bien|mal|vrai|faux|"
        "difference|comparer|bref|hein|euh|ben|bah|lol|mdr|directeur|directrice|technique|"
        "financier|financiere|produit|recherche|chercheur|chercheurs|chercheuse|ingenieur|"
        "ingenieurs|salarie|salaries|employe|employes|cadre|cadres|adjoint|adjointe|"
        "porte parole|investisseur|investisseurs|actionnaires|question|demande"
    )
    + _words(
        # Honorifics are not part of a name ("Mr. Altman", "Mme Murati").
        "mr|mrs|ms|mx|dr|mister|missus|sir|madam|monsieur|madame|mademoiselle|mme|mmes|mlle|mm|"
        "docteur|doctor|prof|professor|professeur"
    )
)

# Function words ignored when a question is compared with the story's texts (`WhoIndex` uses
# a TF-IDF overlap; content words such as "reunite" or "poursuites" decide).
TEXT_STOPWORDS = set(
    _words(
        "a|an|the|of|to|in|on|at|for|from|with|by|about|and|or|but|as|is|are|was|were|be|been|"
        "being|do|does|did|have|has|had|it|its|this|that|these|those|who|whom|whose|what|which|"
        "when|where|why|how|s|t|d|ll|re|ve|m|i|me|my|you|your|he|him|his|she|her|they|them|their|"
        "we|our|will|would|could|should|can|may|might|must|not|no|so|than|then|there|tell|"
        "le|la|les|l|un|une|des|de|du|d|au|aux|en|et|ou|que|qu|qui|quoi|dont|est|sont|etait|ete|"
        "etre|a|ai|ont|avait|c|ce|cet|cette|ces|il|elle|ils|elles|on|je|j|tu|se|s|sa|son|ses|"
        "leur|leurs|y|ne|n|pas|par|pour|avec|sur|dans|chez|va|vont|t|lui"
    )
)
# Speech and report verbs: "who said/reported that ..." asks for the source of what follows.
REPORT_VERBS = set(
    _words(
        "said|says|say|reported|reports|report|reportedly|claimed|claims|claim|told|tells|tweeted|"
        "tweets|posted|posts|announced|announces|declared|declares|stated|states|revealed|reveals|"
        "explained|explains|wrote|writes|warned|warns|admitted|admits|"
        "dit|a dit|declare|affirme|rapporte|annonce|explique|tweete|ecrit|revele|assure|"
        "raconte|avoue|estime|pretend|indique|selon"
    )
)
# Verbs whose particle may come after the object: "pushed Altman out", "poussé Altman vers
# la sortie". (first word, rest, predicate)
SEPARABLE: list[tuple[str, tuple[str, ...], str]] = [
    (verb, tuple(rest.split()), pred)
    for pred, pairs in {
        "fired": "pushed:out|push:out|pushes:out|kicked:out|kick:out|forced:out|force:out|"
        "threw:out|throw:out|let:go|pousse:vers la sortie|pousser:vers la sortie|"
        "poussee:vers la sortie|mis:a la porte|mettre:a la porte|mise:a la porte|"
        "jete:dehors|fichu:dehors|gave:the boot|give:the boot",
        "resigned": "stepped:down|step:down",
        "convinced": "talked:into|talk:into|talks:into",
        "appointed": "brought:in|put:in charge|mis:a la tete|place:a la tete|placee:a la tete",
    }.items()
    for verb, rest in (pair.split(":") for pair in _words(pairs))
]
# "work with", discontinuous: "who will X work with", "avec qui X va-t-il travailler".
WORK_VERBS = set(
    _words(
        "work|works|working|worked|collaborate|collaborates|travailler|travaille|travaillera|"
        "travaillent|bosser|bosse|collaborer|collabore|collaborera|cooperer"
    )
)
WITH_WORDS = {"with", "avec", "alongside"}
# "boss of <person>": a head word followed by a person's name (or "<person>'s boss").
BOSS_WORDS = set(
    _words(
        "boss|patron|patronne|superior|superieur|superieure|manager|supervisor|chef|cheffe|"
        "n 1|supervisor|employer|employeur"
    )
)

# Function words that never make a name on their own ("de" in "Jean de La Tour", "of" in "Bank of").
SHORT_FUNCTION = {"of", "de", "d", "the", "la", "le", "les", "du", "des", "l", "and", "et", "s"}
