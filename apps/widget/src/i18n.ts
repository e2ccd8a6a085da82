/** Every string the widget shows, per supported locale. `en` is the reference set. */
const en = {
  openChat: 'Open chat',
  closeChat: 'Close chat',
  online: "We're online",
  away: 'Away right now',
  reconnecting: 'Reconnecting…',
  prechatIntro: 'Tell us a little about yourself and we will be right with you.',
  name: 'Name',
  email: 'Email',
  message: 'Message',
  optional: '(optional)',
  startChat: 'Start chat',
  required: 'This field is required.',
  invalidEmail: 'Enter a valid email address.',
  composerPlaceholder: 'Write a message…',
  send: 'Send',
  attach: 'Attach a file',
  sending: 'Sending…',
  notSent: 'Not sent.',
  retry: 'Retry',
  read: 'Read',
  agentTyping: '{name} is typing…',
  someoneTyping: 'Agent is typing…',
  fileTooLarge: '“{name}” is too large. Files can be up to 10 MB.',
  uploading: 'Uploading {name}…',
  uploadFailed: 'The file could not be uploaded.',
  offlineTitle: "We're away right now",
  offlineIntro: 'Leave us a message and we will reply by email.',
  sendMessage: 'Send message',
  offlineThanks: 'Thanks! We got your message and will reply by email soon.',
  notAccepted: 'That could not be sent as it is. Check it and try again.',
  tooLarge: 'That is too large to send.',
  fileTypeRefused: 'This kind of file cannot be sent.',
  slowDown: 'You are sending too fast. Wait a moment and try again.',
  identityRefused: 'We could not confirm who you are. Sign in to the site again, then write to us.',
  genericError: 'Something went wrong. Please try again.',
  networkError: 'You seem to be offline. We will keep trying.',
  sessionEnded: 'Your previous chat has ended. Start a new one below.',
  download: 'Download {name}',
  unread: '{count} unread',
  agent: 'Agent',
};

export type MessageKey = keyof typeof en;
export type Dictionary = Record<MessageKey, string>;
export type Locale = 'en' | 'es-MX' | 'pt-BR';

const esMX: Dictionary = {
  openChat: 'Abrir chat',
  closeChat: 'Cerrar chat',
  online: 'Estamos en línea',
  away: 'Fuera de línea',
  reconnecting: 'Reconectando…',
  prechatIntro: 'Cuéntanos un poco sobre ti y enseguida te atendemos.',
  name: 'Nombre',
  email: 'Correo electrónico',
  message: 'Mensaje',
  optional: '(opcional)',
  startChat: 'Iniciar chat',
  required: 'Este campo es obligatorio.',
  invalidEmail: 'Escribe un correo electrónico válido.',
  composerPlaceholder: 'Escribe un mensaje…',
  send: 'Enviar',
  attach: 'Adjuntar un archivo',
  sending: 'Enviando…',
  notSent: 'No enviado.',
  retry: 'Reintentar',
  read: 'Leído',
  agentTyping: '{name} está escribiendo…',
  someoneTyping: 'Un agente está escribiendo…',
  fileTooLarge: '“{name}” es demasiado grande. El límite es de 10 MB.',
  uploading: 'Subiendo {name}…',
  uploadFailed: 'No se pudo subir el archivo.',
  offlineTitle: 'Ahora no estamos disponibles',
  offlineIntro: 'Déjanos un mensaje y te responderemos por correo.',
  sendMessage: 'Enviar mensaje',
  offlineThanks: '¡Gracias! Recibimos tu mensaje y pronto te responderemos por correo.',
  notAccepted: 'No se pudo enviar así. Revísalo e inténtalo de nuevo.',
  tooLarge: 'Es demasiado grande para enviarlo.',
  fileTypeRefused: 'Este tipo de archivo no se puede enviar.',
  slowDown: 'Estás enviando demasiado rápido. Espera un momento e inténtalo de nuevo.',
  identityRefused: 'No pudimos confirmar quién eres. Vuelve a iniciar sesión en el sitio y escríbenos.',
  genericError: 'Algo salió mal. Inténtalo de nuevo.',
  networkError: 'Parece que no tienes conexión. Seguiremos intentando.',
  sessionEnded: 'Tu chat anterior terminó. Inicia uno nuevo abajo.',
  download: 'Descargar {name}',
  unread: '{count} sin leer',
  agent: 'Agente',
};

const ptBR: Dictionary = {
  openChat: 'Abrir chat',
  closeChat: 'Fechar chat',
  online: 'Estamos online',
  away: 'Ausentes agora',
  reconnecting: 'Reconectando…',
  prechatIntro: 'Conte um pouco sobre você e já vamos atender.',
  name: 'Nome',
  email: 'E-mail',
  message: 'Mensagem',
  optional: '(opcional)',
  startChat: 'Iniciar conversa',
  required: 'Este campo é obrigatório.',
  invalidEmail: 'Digite um e-mail válido.',
  composerPlaceholder: 'Escreva uma mensagem…',
  send: 'Enviar',
  attach: 'Anexar um arquivo',
  sending: 'Enviando…',
  notSent: 'Não enviada.',
  retry: 'Tentar de novo',
  read: 'Lida',
  agentTyping: '{name} está digitando…',
  someoneTyping: 'Um atendente está digitando…',
  fileTooLarge: '“{name}” é grande demais. O limite é 10 MB.',
  uploading: 'Enviando {name}…',
  uploadFailed: 'Não foi possível enviar o arquivo.',
  offlineTitle: 'Estamos ausentes agora',
  offlineIntro: 'Deixe uma mensagem e responderemos por e-mail.',
  sendMessage: 'Enviar mensagem',
  offlineThanks: 'Obrigado! Recebemos sua mensagem e responderemos por e-mail em breve.',
  notAccepted: 'Não foi possível enviar assim. Verifique e tente novamente.',
  tooLarge: 'É grande demais para enviar.',
  fileTypeRefused: 'Este tipo de arquivo não pode ser enviado.',
  slowDown: 'Você está enviando rápido demais. Aguarde um momento e tente novamente.',
  identityRefused: 'Não conseguimos confirmar quem você é. Entre no site novamente e escreva para nós.',
  genericError: 'Algo deu errado. Tente novamente.',
  networkError: 'Parece que você está sem conexão. Continuaremos tentando.',
  sessionEnded: 'Sua conversa anterior terminou. Inicie uma nova abaixo.',
  download: 'Baixar {name}',
  unread: '{count} não lidas',
  agent: 'Atendente',
};

export const dictionaries: Record<Locale, Dictionary> = { en, 'es-MX': esMX, 'pt-BR': ptBR };

/**
 * Picks the widget locale: the embed's `data-locale` first, then the browser's languages,
 * matched by language so `es-AR` gets `es-MX` and `pt-PT` gets `pt-BR`; `en` otherwise.
 */
export function resolveLocale(preferred: string | null | undefined, browserLanguages: readonly string[] = []): Locale {
  for (const candidate of [preferred, ...browserLanguages]) {
    if (!candidate) continue;
    const lang = candidate.trim().toLowerCase().split(/[-_]/)[0];
    if (lang === 'es') return 'es-MX';
    if (lang === 'pt') return 'pt-BR';
    if (lang === 'en') return 'en';
  }
  return 'en';
}

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** Returns a lookup for one locale; `{name}` placeholders are replaced from `vars`. */
export function translator(locale: Locale): Translate {
  const dict = dictionaries[locale] ?? en;
  return (key, vars) => {
    const template = dict[key] ?? en[key] ?? key;
    if (!vars) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  };
}
