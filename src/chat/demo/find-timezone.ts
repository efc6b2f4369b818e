/**
 * The time zone a message names, for a time intent: an IANA name, a known city, or UTC.
 */

const CITY_ZONES: Record<string, string> = {
  tokyo: 'Asia/Tokyo',
  osaka: 'Asia/Tokyo',
  seoul: 'Asia/Seoul',
  beijing: 'Asia/Shanghai',
  shanghai: 'Asia/Shanghai',
  'hong kong': 'Asia/Hong_Kong',
  singapore: 'Asia/Singapore',
  bangkok: 'Asia/Bangkok',
  jakarta: 'Asia/Jakarta',
  mumbai: 'Asia/Kolkata',
  delhi: 'Asia/Kolkata',
  bangalore: 'Asia/Kolkata',
  kolkata: 'Asia/Kolkata',
  karachi: 'Asia/Karachi',
  dubai: 'Asia/Dubai',
  tehran: 'Asia/Tehran',
  istanbul: 'Europe/Istanbul',
  moscow: 'Europe/Moscow',
  london: 'Europe/London',
  dublin: 'Europe/Dublin',
  lisbon: 'Europe/Lisbon',
  paris: 'Europe/Paris',
  madrid: 'Europe/Madrid',
  barcelona: 'Europe/Madrid',
  berlin: 'Europe/Berlin',
  munich: 'Europe/Berlin',
  amsterdam: 'Europe/Amsterdam',
  brussels: 'Europe/Brussels',
  zurich: 'Europe/Zurich',
  rome: 'Europe/Rome',
  vienna: 'Europe/Vienna',
  stockholm: 'Europe/Stockholm',
  oslo: 'Europe/Oslo',
  helsinki: 'Europe/Helsinki',
  warsaw: 'Europe/Warsaw',
  prague: 'Europe/Prague',
  athens: 'Europe/Athens',
  kyiv: 'Europe/Kyiv',
  cairo: 'Africa/Cairo',
  lagos: 'Africa/Lagos',
  nairobi: 'Africa/Nairobi',
  johannesburg: 'Africa/Johannesburg',
  'new york': 'America/New_York',
  nyc: 'America/New_York',
  boston: 'America/New_York',
  toronto: 'America/Toronto',
  chicago: 'America/Chicago',
  denver: 'America/Denver',
  'los angeles': 'America/Los_Angeles',
  'san francisco': 'America/Los_Angeles',
  seattle: 'America/Los_Angeles',
  vancouver: 'America/Vancouver',
  'mexico city': 'America/Mexico_City',
  'sao paulo': 'America/Sao_Paulo',
  'são paulo': 'America/Sao_Paulo',
  'buenos aires': 'America/Argentina/Buenos_Aires',
  honolulu: 'Pacific/Honolulu',
  sydney: 'Australia/Sydney',
  melbourne: 'Australia/Melbourne',
  auckland: 'Pacific/Auckland',
};
const CITY_PATTERN = new RegExp(
  `\\b(${Object.keys(CITY_ZONES)
    .sort((a, b) => b.length - a.length)
    .join('|')})\\b`,
  'i',
);
const IANA_PATTERN =
  /\b(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)\/[A-Za-z_+-]+(?:\/[A-Za-z_+-]+)?/;
const UTC_PATTERN = /\b(?:UTC|GMT)\b/;

/** The first zone the message names: an IANA name as written, a known city, or UTC. */
export function findTimezone(text: string): string | undefined {
  const found: { at: number; zone: string }[] = [];
  const iana = IANA_PATTERN.exec(text);
  if (iana) found.push({ at: iana.index, zone: iana[0] });
  const city = CITY_PATTERN.exec(text);
  if (city?.[1]) found.push({ at: city.index, zone: CITY_ZONES[city[1].toLowerCase()] ?? '' });
  const utc = UTC_PATTERN.exec(text);
  if (utc) found.push({ at: utc.index, zone: 'UTC' });
  return found.filter((entry) => entry.zone !== '').sort((a, b) => a.at - b.at)[0]?.zone;
}
