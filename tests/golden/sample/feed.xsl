<?xml version="1.0" encoding="UTF-8"?><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="itunes atom">
<xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

<xsl:variable name="base">https://entretiens.example.org/podcast/</xsl:variable>

<xsl:template match="/">
<html lang="fr">
<head>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="robots" content="noindex"/>
<title><xsl:value-of select="/rss/channel/title"/> · Flux du podcast</title>
<link rel="stylesheet" href="assets/site.css"/>
<link rel="icon" type="image/png" href="assets/icon.png"/>
</head>
<body class="feed">
<header class="site-header">
  <div class="wrap">
    <a class="brand" href="./">
<img src="assets/icon.png" alt="" width="36" height="36"/>      <span><xsl:value-of select="/rss/channel/title"/></span>
    </a>
  </div>
</header>
<main id="main" class="wrap">
  <section class="hero">
    <img class="cover" src="assets/artwork.jpg" alt="Visuel : Entretiens" width="240" height="240"/>
    <div>
      <p class="kicker">Flux du podcast</p>
      <h1><xsl:value-of select="/rss/channel/title"/></h1>
      <p>Des entretiens avec celles et ceux qui font le marketing digital, les médias sociaux et le droit de l&#39;Internet : fondateurs d&#39;agence, avocats, entrepreneurs et responsables de marque racontent leur stratégie, leurs réussites et leurs difficultés. Émission d&#39;exemple. Elle accompagne le logiciel entretiens et montre ce qu&#39;il publie. Les six épisodes reprennent les entretiens d&#39;un blog français de 2011 consacré au marketing digital et aux médias sociaux ; chaque enregistrement est une courte présentation lue par une voix de synthèse. Camille Laurent, qui anime l&#39;émission, est un personnage fictif.</p>
    </div>
  </section>
  <section class="subscribe notice" id="subscribe">
    <h2>S&#39;abonner</h2>
    <p>Cette page est le flux de l&#39;émission : une adresse destinée aux applications de podcasts plutôt qu&#39;à la lecture. Pour vous abonner, copiez l&#39;adresse ci-dessous dans votre application (« Ajouter un podcast » ou « S&#39;abonner par URL »), ou ouvrez l&#39;une des applications proposées.</p>
    <p class="feed-url">
      <label for="feed-url">Adresse du flux</label>
      <input id="feed-url" type="url" readonly="readonly" value="{/rss/channel/atom:link[@rel='self']/@href}"/>
    </p>
    <ul class="buttons">
      <li><a class="button" href="./">Voir le site de l&#39;émission</a></li>
    </ul>
  </section>
  <section>
    <h2>Derniers épisodes</h2>
    <ol class="episode-list">
      <xsl:for-each select="/rss/channel/item">
      <li>
        <article class="episode-card">
          <h3><a><xsl:attribute name="href"><xsl:call-template name="local"><xsl:with-param name="url" select="link"/></xsl:call-template></xsl:attribute><xsl:value-of select="title"/></a></h3>
          <p class="meta">
            <xsl:call-template name="date"><xsl:with-param name="rfc" select="pubDate"/></xsl:call-template>
            <xsl:if test="itunes:duration"> · <xsl:call-template name="duration"><xsl:with-param name="value" select="itunes:duration"/></xsl:call-template></xsl:if>
          </p>
          <xsl:if test="enclosure/@url">
          <audio controls="controls" preload="none">
            <xsl:attribute name="src"><xsl:call-template name="local"><xsl:with-param name="url" select="enclosure/@url"/></xsl:call-template></xsl:attribute>
            <xsl:attribute name="aria-label"><xsl:value-of select="title"/></xsl:attribute>
          </audio>
          </xsl:if>
        </article>
      </li>
      </xsl:for-each>
    </ol>
  </section>
</main>
</body>
</html>
</xsl:template>

<!-- A URL of the site, made relative so that the page also works where the site is previewed. -->
<xsl:template name="local">
  <xsl:param name="url"/>
  <xsl:choose>
    <xsl:when test="starts-with($url, $base)"><xsl:value-of select="concat('./', substring-after($url, $base))"/></xsl:when>
    <xsl:otherwise><xsl:value-of select="$url"/></xsl:otherwise>
  </xsl:choose>
</xsl:template>

<!-- An RFC 2822 date ("Mon, 14 Mar 2011 09:00:00 +0100") in the show's language. -->
<xsl:template name="date">
  <xsl:param name="rfc"/>
  <xsl:variable name="day" select="number(substring($rfc, 6, 2))"/>
  <xsl:variable name="abbreviation" select="substring($rfc, 9, 3)"/>
  <xsl:variable name="month">
    <xsl:choose>
      <xsl:when test="$abbreviation = 'Jan'">janvier</xsl:when>
      <xsl:when test="$abbreviation = 'Feb'">février</xsl:when>
      <xsl:when test="$abbreviation = 'Mar'">mars</xsl:when>
      <xsl:when test="$abbreviation = 'Apr'">avril</xsl:when>
      <xsl:when test="$abbreviation = 'May'">mai</xsl:when>
      <xsl:when test="$abbreviation = 'Jun'">juin</xsl:when>
      <xsl:when test="$abbreviation = 'Jul'">juillet</xsl:when>
      <xsl:when test="$abbreviation = 'Aug'">août</xsl:when>
      <xsl:when test="$abbreviation = 'Sep'">septembre</xsl:when>
      <xsl:when test="$abbreviation = 'Oct'">octobre</xsl:when>
      <xsl:when test="$abbreviation = 'Nov'">novembre</xsl:when>
      <xsl:when test="$abbreviation = 'Dec'">décembre</xsl:when>
    </xsl:choose>
  </xsl:variable>
  <xsl:variable name="year" select="substring($rfc, 13, 4)"/>
  <xsl:variable name="shown-day">
    <xsl:choose>
      <xsl:when test="$day = 1">1er</xsl:when>
      <xsl:otherwise><xsl:value-of select="$day"/></xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
<xsl:value-of select="$shown-day"/><xsl:text> </xsl:text><xsl:value-of select="$month"/><xsl:text> </xsl:text><xsl:value-of select="$year"/></xsl:template>

<!-- itunes:duration (seconds, or H:MM:SS) for people: "45 s", "52 min", "1 h 05 min". -->
<xsl:template name="duration">
  <xsl:param name="value"/>
  <xsl:choose>
    <xsl:when test="contains($value, ':')"><xsl:value-of select="$value"/></xsl:when>
    <xsl:when test="$value &lt; 60"><xsl:value-of select="round($value)"/> s</xsl:when>
    <xsl:when test="$value &lt; 3600"><xsl:value-of select="round($value div 60)"/> min</xsl:when>
    <xsl:otherwise>
      <xsl:variable name="minutes" select="round($value div 60)"/>
      <xsl:value-of select="floor($minutes div 60)"/> h <xsl:value-of select="format-number($minutes mod 60, '00')"/> min
    </xsl:otherwise>
  </xsl:choose>
</xsl:template>

</xsl:stylesheet>
