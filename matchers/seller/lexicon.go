package seller

// The word lists below are normalized with normalize.Tokens in New, the same
// way listing text is, so they are written as a person would write them.
// They are deliberately small: a phrase belongs here only when what follows
// it is, in ordinary listings, the thing the product fits, not the product.

// triggersBefore are nominative phrases that precede the mark. Longer
// phrases are tried first (New sorts them), so evidence quotes "fit for"
// rather than "for".
func triggersBefore() []string {
	return []string{
		// English
		"compatible with", "for", "fits", "fit for", "fits for", "works with", "designed for",
		"replacement for", "suitable for", "case for", "made for", "for use with", "compatible",
		// Spanish
		"para", "compatible con", "apto para", "diseñado para", "repuesto para",
		// French
		"pour", "compatible avec", "adapté à", "adapté pour", "conçu pour",
		// German
		"für", "passend für", "kompatibel mit", "geeignet für", "ersatz für",
		// Portuguese
		"compatível com", "adequado para", "feito para",
		// Russian
		"для", "совместим с", "совместимый с", "подходит для",
		// Chinese
		"适用于", "适配", "兼容", "适用",
		// Arabic
		"متوافق مع", "لـ", "مناسب لـ",
	}
}

// triggersAfter are nominative phrases that follow the mark, as Turkish
// postpositions do ("Veltaro için kılıf": a case for Veltaro).
func triggersAfter() []string {
	return []string{
		"için", "uyumlu", "ile uyumlu",
		// "Auralis Studio 5 compatible ear tips"; Chinese 专用 ("dedicated
		// to"), as in "Teskaro GMT II专用保护膜".
		"compatible", "专用",
	}
}

// fillerWords may stand between a trigger and the mark ("for the
// Veltaro X2", "pour les Veltaro").
func fillerWords() []string {
	return []string{
		"the", "your", "all", "any", "a", "an",
		"el", "la", "los", "las", "tu", "su", "sus",
		"le", "les", "votre", "vos", "tous",
		"den", "die", "das", "dem", "ihr", "ihre", "ihren", "alle",
		"o", "os", "as", "seu", "sua",
		"все", "всех",
	}
}

// accessoryWords name products that exist to go with another product. When
// the title names one, nominative use is very likely the whole story.
// "box" is included: a watch box "for Veltaro" is an accessory, and a
// counterfeit sold "with box" does not use a nominative phrase.
func accessoryWords() []string {
	return []string{
		// English
		"case", "cases", "cover", "covers", "strap", "straps", "band", "bands", "laces", "shoelaces",
		"charger", "charging cable", "cable", "adapter", "protector", "screen protector", "tempered glass",
		"insoles", "insole", "dust bag", "box", "sleeve", "skin", "skins", "holder", "mount", "stand", "dock",
		"replacement", "refill", "refills", "cartridge", "filter", "bumper", "pouch", "keyboard cover",
		"ear tips", "earpads", "ear pads", "lens cap", "battery", "film", "spare parts", "parts", "accessory",
		"accessories", "organizer", "insert", "shaper", "hook", "clip", "buckle", "watch band", "lanyard",
		// Spanish
		"funda", "fundas", "carcasa", "correa", "correas", "cordones", "cargador", "protector de pantalla",
		"plantillas", "estuche", "repuesto", "adaptador", "accesorio", "accesorios", "soporte",
		// French
		"coque", "étui", "housse", "bracelet", "lacets", "chargeur", "câble", "protection écran",
		"semelles", "adaptateur", "accessoire", "accessoires", "support",
		// German
		"hülle", "schutzhülle", "armband", "schnürsenkel", "ladegerät", "ladekabel", "kabel",
		"schutzfolie", "panzerglas", "einlegesohlen", "ersatzteil", "zubehör", "halterung",
		// Portuguese
		"capa", "capinha", "pulseira", "cadarço", "cadarços", "carregador", "cabo", "película", "palmilhas",
		"acessório", "acessórios", "suporte",
		// Russian
		"чехол", "ремешок", "шнурки", "зарядка", "зарядное устройство", "кабель", "защитное стекло",
		"стельки", "пленка", "адаптер", "аксессуар", "держатель", "браслет",
		// Turkish
		"kılıf", "kayış", "kordon", "şarj", "kablo", "ekran koruyucu", "tabanlık", "adaptör", "aksesuar",
		// Chinese
		"表带", "手机壳", "保护壳", "保护套", "充电器", "数据线", "鞋带", "贴膜", "钢化膜", "鞋垫",
		"防尘袋", "表链", "配件", "替换", "支架", "耳机套",
		// Arabic
		"جراب", "غطاء", "حزام", "شاحن", "كابل", "سوار", "واقي", "حافظة",
	}
}
