/**
 * Rendering a message's fields (pure): text fields are sent as they are, never escaped; a field that
 * is HTML escapes every value that comes from the profile, while the template's own markup stays.
 */
import { renderField } from '../delivery/send';

const profile = {
  firstName: '<script>alert(1)</script> & "Co"',
  attributes: { tier: '<b>gold</b>', points: 7 },
};
const data = { ...profile, profile };

describe('renderField', () => {
  it('renders text fields (subject, text body, SMS, push, webhook JSON) unescaped', () => {
    expect(renderField('Hi {{firstName}}, {{profile.attributes.tier}}', data, 'text')).toBe(
      'Hi <script>alert(1)</script> & "Co", <b>gold</b>',
    );
  });

  it('escapes every profile value in HTML, triple braces included; the template markup stays', () => {
    expect(renderField('<p>Hi {{firstName}}</p>', data, 'html')).toBe(
      '<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;</p>',
    );
    expect(
      renderField('<i>{{{profile.attributes.tier}}}</i> {{profile.attributes.points}}', data, 'html'),
    ).toBe('<i>&lt;b&gt;gold&lt;/b&gt;</i> 7');
    expect(renderField('{{default profile.nickname "<b>friend</b>"}}', data, 'html')).toBe('<b>friend</b>');
  });
});
